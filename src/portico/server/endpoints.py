"""The small endpoints: models, embeddings, health, readiness, metrics."""

from __future__ import annotations

import asyncio
import base64
import hmac
import time

import numpy as np

from portico.embeddings.inputs import embedding_texts
from portico.errors import AuthenticationFailed
from portico.gateway import Gateway
from portico.server.asgi import Receive, Scope, Send, header_map, parse_json_object, read_body, send_bytes, send_json
from portico.server.validation import validate_body
from portico.types import EmbeddingRequest

_CREATED = int(time.time())


async def handle_models(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    data = [{"id": name, "object": "model", "created": _CREATED, "owned_by": "portico"} for name in gateway.model_ids()]
    await send_json(send, 200, {"object": "list", "data": data})


async def handle_embeddings(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    headers = header_map(scope)
    settings = gateway.settings.embeddings
    req = validate_body(
        EmbeddingRequest, parse_json_object(await read_body(receive, headers, gateway.settings.server.max_body_bytes))
    )
    texts = embedding_texts(req, settings, gateway.token_decoder)
    embedder = await gateway.embedder()
    vectors = await asyncio.to_thread(embedder.embed, texts)
    tokens = sum(embedder.count_tokens(t) for t in texts)
    items = []
    for i, vec in enumerate(vectors):
        if req.encoding_format == "base64":
            value: object = base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode()
        else:
            value = vec.tolist()
        items.append({"object": "embedding", "index": i, "embedding": value})
    await send_json(
        send,
        200,
        {
            "object": "list",
            "data": items,
            "model": req.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        },
    )


async def handle_health(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    await send_json(send, 200, {"status": "ok"})


async def handle_ready(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    state = gateway.readiness()
    ready = gateway.started and all(state.values())
    await send_json(send, 200 if ready else 503, {"status": "ready" if ready else "loading", "components": state})


async def handle_metrics(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    if gateway.settings.metrics.require_key and gateway.key_check is not None:
        await gateway.key_check(header_map(scope))
    elif gateway.settings.metrics.require_key and gateway.settings.auth.master_key is not None:
        auth = header_map(scope).get("authorization", "")
        token = auth[7:] if auth[:7].lower() == "bearer " else ""
        expected = gateway.settings.auth.master_key.get_secret_value()
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise AuthenticationFailed("/metrics requires the master key (Authorization: Bearer ...).")
    await send_bytes(send, 200, gateway.metrics.render(), {}, b"text/plain; version=0.0.4; charset=utf-8")
