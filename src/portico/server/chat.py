"""Chat endpoints: parse, run the pipeline, render JSON or SSE, in a client's dialect."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from portico.auth.principal import STATE_KEY
from portico.errors import ModelNotFound, PorticoError, UpstreamError, UpstreamTimeout, internal_error
from portico.feature import GRANT_KEY, HEADERS_KEY, REQUEST_ID_KEY, Grant
from portico.gateway import Gateway
from portico.pipeline import ChunkStream, Reply, RequestContext
from portico.server.asgi import (
    Receive,
    Scope,
    Send,
    encode_headers,
    parse_json_object,
    read_body,
    send_json,
)
from portico.server.deadline import explain_timeout, set_deadline
from portico.server.dialect import Dialect, OpenAIDialect, StreamEncoder
from portico.server.headers import portico_headers
from portico.types import ChatChunk

log = logging.getLogger("portico.request")
OPENAI = OpenAIDialect()
_SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


async def handle_chat(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """POST /v1/chat/completions."""
    await serve_chat(gateway, scope, receive, send, OPENAI)


async def serve_chat(
    gateway: Gateway,
    scope: Scope,
    receive: Receive,
    send: Send,
    dialect: Dialect,
    *,
    data: dict[str, Any] | None = None,
) -> None:
    """``data``: the request body, when the caller has read and parsed it already."""
    started = time.perf_counter()
    headers: dict[str, str] = scope[HEADERS_KEY]
    request_id: str = scope[REQUEST_ID_KEY]
    ctx: RequestContext | None = None
    try:
        if data is None:
            server = gateway.settings.server
            data = parse_json_object(
                await read_body(receive, headers, server.max_body_bytes, timeout=server.body_timeout)
            )
        req = dialect.parse(data)
        if not gateway.knows_model(req.model):
            raise ModelNotFound(
                f"The model '{req.model}' does not exist. Available: {', '.join(gateway.model_ids())}.",
                param="model",
            )
        grant: Grant = scope[GRANT_KEY]
        ctx = RequestContext(request_id=request_id, request=req, headers=headers, started=started, caller=grant.caller)
        if grant.principal is not None:
            ctx.state[STATE_KEY] = grant.principal
        set_deadline(ctx, gateway.settings.server.request_timeout, headers, grant)
        gateway.metrics.in_flight.inc()  # observe() decrements, once per context
        reply = await handle_watching(gateway, ctx, receive)
        if reply is None:  # the client went away: the work was cancelled and recorded as such
            observe(gateway, ctx)
            return
        if isinstance(reply, ChunkStream):
            await _send_stream(gateway, ctx, reply, receive, send, dialect.encoder(ctx))
            return
        await _send_response(gateway, ctx, dialect.response(ctx, reply), send)
    except PorticoError as exc:
        if isinstance(exc, UpstreamTimeout):
            explain_timeout(ctx, exc)
        await _fail(gateway, ctx, request_id, exc, send, dialect)
    except Exception:
        log.exception("unhandled error in request %s", request_id)
        await _fail(gateway, ctx, request_id, internal_error(request_id), send, dialect)


WATCH_AFTER = 0.05  # seconds a request runs before a task starts watching for a disconnect


async def handle_watching(gateway: Gateway, ctx: RequestContext, receive: Receive) -> Reply | None:
    """``gateway.handle(ctx)``, cancelled when the client disconnects (then None: the chain
    recorded the request as cancelled, with what it cost so far). The watcher starts only once
    the request has run ``WATCH_AFTER`` seconds, so fast requests pay a timer, not a task."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    watcher: asyncio.Task[None] | None = None

    async def watch() -> None:
        await _wait_disconnect(receive)
        ctx.client_disconnected = True
        task.cancel()  # lands inside gateway.handle: stages and the provider call unwind

    def start() -> None:
        nonlocal watcher
        watcher = loop.create_task(watch())

    timer = loop.call_later(WATCH_AFTER, start)
    try:
        return await gateway.handle(ctx)
    except asyncio.CancelledError:
        if not ctx.client_disconnected:
            raise
        task.uncancel()
        ctx.status, ctx.error_code = 499, "client_disconnected"
        return None
    finally:
        timer.cancel()
        if watcher is not None and not watcher.done():
            watcher.cancel()


async def _send_response(gateway: Gateway, ctx: RequestContext, body: bytes, send: Send) -> None:
    headers = portico_headers(ctx)
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *encode_headers(headers),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    await send({"type": "http.response.body", "body": body})
    observe(gateway, ctx)


async def _fail(
    gateway: Gateway, ctx: RequestContext | None, request_id: str, exc: PorticoError, send: Send, dialect: Dialect
) -> None:
    headers = portico_headers(ctx) if ctx is not None else {"x-request-id": request_id}
    await send_json(send, exc.status, dialect.error_body(exc), {**headers, **exc.response_headers()})
    if ctx is not None:
        ctx.status, ctx.error_code = exc.status, exc.code
        observe(gateway, ctx, exc)
    else:
        gateway.metrics.requests.labels("-", str(exc.status)).inc()


async def _send_stream(
    gateway: Gateway, ctx: RequestContext, stream: ChunkStream, receive: Receive, send: Send, encoder: StreamEncoder
) -> None:
    """Pull the first chunk before sending headers, so failures before the first byte stay
    real HTTP errors (and fallbacks can still act); after it, failures become an SSE error event."""
    chunks: AsyncIterator[ChatChunk] = stream.__aiter__()
    error: BaseException | None = None
    failed: PorticoError | None = None
    try:
        try:
            first = await chunks.__anext__()
        except StopAsyncIteration:
            first = None
    except BaseException as exc:
        await stream.close(ctx, exc)
        raise
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*_SSE_HEADERS, *encode_headers(portico_headers(ctx, streaming=True))],
        }
    )

    async def pump() -> None:
        if first is not None:
            data = encoder.chunk(first)
            if data:
                await send({"type": "http.response.body", "body": data, "more_body": True})
            async for chunk in chunks:
                data = encoder.chunk(chunk)
                if data:
                    await send({"type": "http.response.body", "body": data, "more_body": True})

    pump_task = asyncio.ensure_future(pump())
    watch_task = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        await asyncio.wait({pump_task, watch_task}, return_when=asyncio.FIRST_COMPLETED)
        if not pump_task.done():  # the client went away: stop generating now
            ctx.client_disconnected = True
            pump_task.cancel()
            error = ConnectionAbortedError("client disconnected")
        else:
            error = pump_task.exception()
    finally:
        watch_task.cancel()
        if not pump_task.done():
            pump_task.cancel()
        await asyncio.gather(pump_task, watch_task, return_exceptions=True)
    try:
        if ctx.client_disconnected:
            ctx.status = 499
        elif isinstance(error, PorticoError):
            ctx.status, ctx.error_code = error.status, error.code
            failed = error
            await send({"type": "http.response.body", "body": encoder.error(error), "more_body": False})
        elif error is not None:
            log.error("stream %s failed", ctx.request_id, exc_info=error)
            failure = internal_error(ctx.request_id)
            ctx.status, ctx.error_code = 500, "internal_error"
            await send({"type": "http.response.body", "body": encoder.error(failure), "more_body": False})
        else:
            await send({"type": "http.response.body", "body": encoder.done(), "more_body": False})
    finally:
        await stream.close(ctx, error)
        observe(gateway, ctx, failed)


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def observe(gateway: Gateway, ctx: RequestContext, error: PorticoError | None = None) -> None:
    m = gateway.metrics
    model = ctx.model
    m.in_flight.dec()
    if isinstance(error, UpstreamError):
        m.upstream_errors.labels(model, error.code or error.type).inc()
    m.requests.labels(model, str(ctx.status)).inc()
    m.request_duration.labels(model).observe(time.perf_counter() - ctx.started)
    m.overhead.observe(ctx.overhead_seconds())
    if ctx.upstream_seconds:
        m.upstream_duration.labels(model).observe(ctx.upstream_seconds)
    if ctx.first_token_seconds is not None:
        m.ttft.labels(model).observe(ctx.first_token_seconds)
    if ctx.usage is not None:
        m.tokens.labels(model, "input").inc(ctx.usage.prompt_tokens)
        m.tokens.labels(model, "output").inc(ctx.usage.completion_tokens)
    if ctx.cost_usd:
        m.cost.labels(model).inc(ctx.cost_usd)
    for finding in ctx.findings:
        m.guard_verdicts.labels(finding.guard, finding.action).inc()
    if ctx.cache_status not in ("off", "bypass"):
        m.observe_cache(ctx.cache_status, "nearest_similarity" in ctx.state.get("cache", {}), ctx.saved_usd)
