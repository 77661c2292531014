"""The small endpoints: models, health, readiness, metrics."""

from __future__ import annotations

import time

from portico.errors import ModelNotFound
from portico.feature import REQUEST_ID_KEY, grant_of
from portico.gateway import Gateway
from portico.server.asgi import Receive, Scope, Send, send_bytes, send_json

_CREATED = int(time.time())


def _ids(scope: Scope) -> dict[str, str]:
    return {"x-request-id": scope[REQUEST_ID_KEY]}


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
    await send_json(send, 200, {"object": "list", "data": data}, _ids(scope))


async def handle_model(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """GET /v1/models/{model}: 404 for a model that does not exist or the caller may not use."""
    name = scope["path_params"]["model"]
    if name not in _visible_models(gateway, scope):
        raise ModelNotFound(f"The model '{name}' does not exist or this key may not use it.", param="model")
    await send_json(send, 200, _model_card(name), _ids(scope))


async def handle_health(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    await send_json(send, 200, {"status": "ok"}, _ids(scope))


async def handle_ready(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    state = gateway.readiness()
    ready = gateway.started and all(state.values())
    body = {"status": "ready" if ready else "loading", "components": state}
    await send_json(send, 200 if ready else 503, body, _ids(scope))


async def handle_metrics(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    await send_bytes(send, 200, gateway.metrics.render(), _ids(scope), b"text/plain; version=0.0.4; charset=utf-8")
