"""The small endpoints: models, embeddings, health, readiness, metrics."""

from __future__ import annotations

import asyncio
import base64
import time

import numpy as np

from portico.embeddings.inputs import embedding_texts
from portico.errors import ModelNotFound
from portico.feature import HEADERS_KEY, grant_of
from portico.gateway import Gateway
from portico.server.asgi import Receive, Scope, Send, parse_json_object, read_body, send_bytes, send_json
from portico.server.validation import validate_body
from portico.types import EmbeddingRequest

_CREATED = int(time.time())


def _model_card(name: str) -> dict[str, object]:
    return {"id": name, "object": "model", "created": _CREATED, "owned_by": "portico"}


def _visible_models(gateway: Gateway, scope: Scope) -> list[str]:
    """The models the caller's key (and team) may use; every model for the master key / open mode."""
    principal = grant_of(scope).principal
    names = gateway.model_ids()
    return names if principal is None else [n for n in names if principal.allows(n)]


async def handle_models(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """GET /v1/models: only what the caller may use."""
    data = [_model_card(name) for name in _visible_models(gateway, scope)]
    await send_json(send, 200, {"object": "list", "data": data})


async def handle_model(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """GET /v1/models/{model}: 404 for a model that does not exist or the caller may not use."""
    name = scope["path_params"]["model"]
    if name not in _visible_models(gateway, scope):
        raise ModelNotFound(f"The model '{name}' does not exist or this key may not use it.", param="model")
    await send_json(send, 200, _model_card(name))


async def handle_embeddings(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    headers = scope[HEADERS_KEY]
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
    await send_bytes(send, 200, gateway.metrics.render(), {}, b"text/plain; version=0.0.4; charset=utf-8")
