"""AccountingStage: one ledger + audit record per request, durable before the reply is released.

Outermost stage: it sees every request, refused ones included (401, 429...). For a stream,
the record is written when the stream ends (before the server can send its final
``[DONE]``), or from ``on_close`` when the stream is cut or the client goes away, with the
usage seen so far.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from portico.errors import PorticoError
from portico.limits.admission import ADMISSION_KEY
from portico.limits.prices import PriceCatalog
from portico.limits.usage import count_stream_chars, fill_cost, final_usage
from portico.pipeline import ChunkStream, Next, Reply, RequestContext
from portico.storage.records import RequestRecord
from portico.storage.redact import redact
from portico.types import ChatChunk, ChatResponse

DONE_KEY = "portico.storage.recorded"
COMPRESSION_KEY = "compression"  # set by portico.compress.stage: tokens and dollars saved


class RecordSink(Protocol):
    async def record(self, rec: RequestRecord) -> None: ...


class AccountingStage:
    def __init__(
        self,
        sink: RecordSink,
        catalog: PriceCatalog,
        *,
        store_prompts: bool = False,
        ensure_started: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.sink = sink
        self.catalog = catalog
        self.store_prompts = store_prompts
        self._ensure_started = ensure_started
        # Record ids: unique across processes (random prefix) and cheap (a counter). Clients choose
        # x-request-id and may repeat one; the record id keeps every request's rows distinct.
        self._ids = (f"{prefix}{n:x}" for prefix in [secrets.token_hex(6) + "-"] for n in itertools.count())

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        if self._ensure_started is not None:
            await self._ensure_started()  # idempotent and cheap once started
        try:
            reply = await call_next(ctx)
        except BaseException as exc:
            await self._record(ctx, exc, None)
            raise
        if isinstance(reply, ChunkStream):
            texts: list[str] = []
            reply.wrap(lambda chunks: self._watch(ctx, chunks, texts))
            reply.on_close(lambda c, err: self._record(c, err, "".join(texts)))
            return reply
        await self._record(ctx, None, reply)
        return reply

    async def _watch(
        self, ctx: RequestContext, chunks: AsyncIterator[ChatChunk], texts: list[str]
    ) -> AsyncIterator[ChatChunk]:
        async for chunk in chunks:
            if chunk.choices:
                text = chunk.text
                count_stream_chars(ctx, text)
                if self.store_prompts:
                    texts.append(text)
            yield chunk
        # The stream is complete: make the record durable before the end reaches the client.
        await self._record(ctx, None, "".join(texts))

    async def _record(self, ctx: RequestContext, error: BaseException | None, reply: ChatResponse | str | None) -> None:
        if ctx.state.get(DONE_KEY):
            return
        ctx.state[DONE_KEY] = True
        if isinstance(error, PorticoError):
            ctx.status, ctx.error_code = error.status, error.code
        elif error is not None and ctx.status < 400:
            # Cancelled = the client went away; anything else is a bug answered with a 500.
            ctx.status, ctx.error_code = (499, "client_disconnected") if ctx.client_disconnected else (500, "internal")
        usage = final_usage(ctx)
        cost = fill_cost(ctx, self.catalog)
        caller = ctx.caller
        rec = RequestRecord(
            request_id=ctx.request_id,
            ts=time.time(),
            record_id=next(self._ids),
            key_id=caller.key_id,
            team_id=caller.team_id,
            model_requested=ctx.model_requested,
            model=ctx.model,
            deployment=ctx.deployment,
            route_reason=ctx.route_reason,
            status=ctx.status,
            error_code=ctx.error_code,
            latency_ms=round((time.perf_counter() - ctx.started) * 1000, 3),
            upstream_ms=round(ctx.upstream_seconds * 1000, 3),
            attempts=ctx.attempts,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=cost,
            cache_status=ctx.cache_status,
            stream=ctx.stream,
            findings=[{"guard": f.guard, "action": f.action, "detail": f.detail} for f in ctx.findings],
            billable=ADMISSION_KEY in ctx.state or cost > 0 or ctx.status < 400,
        )
        compression = ctx.state.get(COMPRESSION_KEY)
        if compression:
            rec.compression_saved_tokens = int(compression["saved_tokens"])
            rec.compression_saved_usd = float(compression["saved_usd"])
        if self.store_prompts:
            rec.prompt_text = redact(ctx.request.prompt_text())
            text = reply.text if isinstance(reply, ChatResponse) else reply
            rec.response_text = redact(text) if text else None
        if error is None:
            await self.sink.record(rec)
        else:  # the task may be cancelled (client gone): the record must still be written
            await asyncio.shield(self.sink.record(rec))
