"""The ASGI application: a lean dispatcher for the OpenAI hot path, FastAPI for everything else.

The hot path (chat, embeddings, models, health, metrics) is dispatched by a dict lookup to
small handlers, because a framework's routing and dependency injection cost more per
request than the rest of the gateway. Admin and other routers registered on the Gateway
are served by a FastAPI app behind it (with its OpenAPI schema at ``/openapi.json``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from portico.config import Settings
from portico.errors import NotFound, PorticoError, internal_error
from portico.gateway import Gateway
from portico.server.asgi import Receive, Scope, Send, send_error
from portico.server.chat import handle_chat
from portico.server.endpoints import handle_embeddings, handle_health, handle_metrics, handle_models, handle_ready

log = logging.getLogger("portico")
Handler = Callable[[Gateway, Scope, Receive, Send], Awaitable[None]]

ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/chat/completions"): handle_chat,
    ("POST", "/chat/completions"): handle_chat,
    ("POST", "/v1/embeddings"): handle_embeddings,
    ("GET", "/v1/models"): handle_models,
    ("GET", "/healthz"): handle_health,
    ("GET", "/readyz"): handle_ready,
    ("GET", "/metrics"): handle_metrics,
}
_PATHS = {path for _, path in ROUTES}


class PorticoApp:
    """ASGI callable. ``gateway`` holds the state; lifespan starts and stops it."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._fallback: Any = None

    def _fallback_app(self) -> Any:
        if self._fallback is None and self.gateway.extra_routers:
            from fastapi import FastAPI

            app = FastAPI(title="Portico admin", docs_url=None, redoc_url=None)
            for router in self.gateway.extra_routers:
                app.include_router(router)

            @app.exception_handler(PorticoError)
            async def _render(request: Any, exc: PorticoError) -> Any:
                from fastapi.responses import JSONResponse

                return JSONResponse(exc.payload(), status_code=exc.status, headers=exc.response_headers())

            self._fallback = app
        return self._fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            handler = ROUTES.get((scope["method"], scope["path"]))
            if handler is not None:
                try:
                    await handler(self.gateway, scope, receive, send)
                except PorticoError as exc:
                    await send_error(send, exc, _id_header())
                except Exception:  # noqa: BLE001
                    ids = _id_header()
                    log.exception("unhandled error on %s (request id %s)", scope["path"], ids["x-request-id"])
                    await send_error(send, internal_error(ids["x-request-id"]), ids)
                return
            fallback = self._fallback_app()
            if fallback is not None and scope["path"] not in _PATHS:
                await fallback(scope, receive, send)
                return
            if scope["path"] in _PATHS:
                await send_error(send, PorticoError(f"Method {scope['method']} is not allowed on {scope['path']}.",
                                                    code="method_not_allowed", status=405), _id_header())
                return
            await send_error(send, NotFound(f"No route {scope['method']} {scope['path']}.", code="unknown_route"),
                             _id_header())
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.gateway.start()
                except Exception as exc:  # noqa: BLE001 - reported to the server, which exits
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.gateway.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _id_header() -> dict[str, str]:
    return {"x-request-id": "req-" + uuid.uuid4().hex}


def create_app(settings: Settings, *, gateway: Gateway | None = None) -> PorticoApp:
    """Build the ASGI app for ``settings`` (or around a pre-assembled ``gateway``)."""
    if gateway is None:
        from portico.assembly import assemble

        gateway = assemble(settings)
    return PorticoApp(gateway)
