"""POST /v1/embeddings: metered like chat (the door's key, the model allow-list, RPM/TPM on
input tokens, the budget at the embedding model's price, a ledger and an audit row, metrics)."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import numpy as np

from portico.auth.principal import STATE_KEY
from portico.embeddings.inputs import embedding_texts
from portico.errors import PorticoError, internal_error
from portico.feature import GRANT_KEY, HEADERS_KEY, REQUEST_ID_KEY, Grant
from portico.gateway import Gateway
from portico.limits.prices import BATCH_TIER, DEFAULT_BATCH_DISCOUNT
from portico.pipeline import Reply, RequestContext
from portico.server.asgi import Receive, Scope, Send, parse_json_object, read_body, send_json
from portico.server.chat import log, observe
from portico.server.headers import portico_headers
from portico.server.validation import validate_body
from portico.types import ChatMessage, ChatRequest, ChatResponse, EmbeddingRequest, Usage

VECTORS = "portico.embeddings.vectors"  # ctx.state: the vectors the terminal computed


async def handle_embeddings(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    headers: dict[str, str] = scope[HEADERS_KEY]
    request_id: str = scope[REQUEST_ID_KEY]
    body = await read_body(
        receive, headers, gateway.settings.server.max_body_bytes, timeout=gateway.settings.server.body_timeout
    )
    req, texts, ctx = prepare_embeddings(gateway, parse_json_object(body), request_id, headers, scope[GRANT_KEY])
    gateway.metrics.in_flight.inc()  # observe() decrements, once per context
    try:
        answer = await run_embeddings(gateway, req, texts, ctx)
    except PorticoError as exc:
        ctx.status, ctx.error_code = exc.status, exc.code
        await send_json(send, exc.status, exc.payload(), {**portico_headers(ctx), **exc.response_headers()})
        observe(gateway, ctx, exc)
        return
    except Exception:
        log.exception("unhandled error in request %s", request_id)
        error = internal_error(request_id)
        ctx.status = 500
        await send_json(send, 500, error.payload(), portico_headers(ctx))
        observe(gateway, ctx, error)
        return
    await send_json(send, 200, answer, portico_headers(ctx))
    observe(gateway, ctx)


def prepare_embeddings(
    gateway: Gateway, data: dict[str, Any], request_id: str, headers: dict[str, str], grant: Grant
) -> tuple[EmbeddingRequest, list[str], RequestContext]:
    """Validate an embeddings request body: 404 / 400 here, before anything is metered."""
    req = validate_body(EmbeddingRequest, data)
    texts = embedding_texts(req, gateway.settings.embeddings, gateway.token_decoder)
    return req, texts, _context(request_id, headers, grant, gateway.settings.embeddings.model_name, texts)


async def run_embeddings(
    gateway: Gateway, req: EmbeddingRequest, texts: list[str], ctx: RequestContext
) -> dict[str, Any]:
    """Embed inside the metering stages (also for batch lines, priced at the batch tier)."""
    price = gateway.settings.embeddings.price

    async def embed(c: RequestContext) -> Reply:
        embedder = await gateway.embedder()
        upstream = time.perf_counter()
        vectors = await asyncio.to_thread(embedder.embed, texts)
        c.upstream_seconds += time.perf_counter() - upstream
        tokens = sum(embedder.count_tokens(t) for t in texts)
        c.usage = Usage.of(tokens, 0)
        discount = DEFAULT_BATCH_DISCOUNT if c.state.get(BATCH_TIER) else 0.0
        c.cost_usd = price.cost(tokens, 0) * (1 - discount)
        c.state[VECTORS] = vectors
        return ChatResponse(model=c.model, choices=[], usage=c.usage)

    await gateway.meter(ctx, embed)
    return _body(req, ctx)


def _context(request_id: str, headers: dict[str, str], grant: Grant, model: str, texts: list[str]) -> RequestContext:
    # The metering stages read a chat-shaped request: the inputs as one user message and a
    # one-token output bound, so the reservation is the inputs' estimate (embeddings produce no tokens).
    request = ChatRequest(model=model, messages=[ChatMessage(role="user", content="\n".join(texts))], max_tokens=1)
    ctx = RequestContext(request_id=request_id, request=request, headers=headers, caller=grant.caller)
    ctx.route_reason = "embeddings"
    if grant.principal is not None:
        ctx.state[STATE_KEY] = grant.principal
    return ctx


def _body(req: EmbeddingRequest, ctx: RequestContext) -> dict[str, Any]:
    items = []
    for i, vec in enumerate(ctx.state[VECTORS]):
        if req.encoding_format == "base64":
            value: object = base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode()
        else:
            value = vec.tolist()
        items.append({"object": "embedding", "index": i, "embedding": value})
    tokens = ctx.usage.prompt_tokens if ctx.usage is not None else 0
    return {
        "object": "list",
        "data": items,
        "model": req.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
