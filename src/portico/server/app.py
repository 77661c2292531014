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
from portico.errors import InvalidRequest, NotFound, PorticoError, internal_error
from portico.gateway import Gateway
from portico.server.asgi import Receive, Scope, Send, send_error
from portico.server.chat import handle_chat
from portico.server.completions import handle_completions
from portico.server.count_tokens import handle_count_tokens
from portico.server.endpoints import handle_embeddings, handle_health, handle_metrics, handle_models, handle_ready
from portico.server.messages import handle_messages

log = logging.getLogger("portico")
Handler = Callable[[Gateway, Scope, Receive, Send], Awaitable[None]]

ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/v1/chat/completions"): handle_chat,
    ("POST", "/chat/completions"): handle_chat,
    ("POST", "/v1/messages"): handle_messages,
    ("POST", "/v1/responses"): lambda g, s, r, w: g.responses.create(g, s, r, w),
    ("POST", "/v1/completions"): handle_completions,
    ("POST", "/v1/messages/count_tokens"): handle_count_tokens,
    ("POST", "/v1/moderations"): lambda g, s, r, w: g.moderation(g, s, r, w),
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
            self._fallback = build_fallback_app(self.gateway.extra_routers)
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
                except Exception:
                    ids = _id_header()
                    log.exception("unhandled error on %s (request id %s)", scope["path"], ids["x-request-id"])
                    await send_error(send, internal_error(ids["x-request-id"]), ids)
                return
            fallback = self._fallback_app()
            if fallback is not None and scope["path"] not in _PATHS:
                await fallback(scope, receive, send)
                return
            if scope["path"] in _PATHS:
                await send_error(
                    send,
                    PorticoError(
                        f"Method {scope['method']} is not allowed on {scope['path']}.",
                        code="method_not_allowed",
                        status=405,
                    ),
                    _id_header(),
                )
                return
            await send_error(
                send, NotFound(f"No route {scope['method']} {scope['path']}.", code="unknown_route"), _id_header()
            )
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.gateway.start()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.gateway.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def build_fallback_app(routers: list[Any]) -> Any:
    """FastAPI for the non-hot-path routers, rendering every error in the OpenAI shape."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    app = FastAPI(title="Portico admin", docs_url=None, redoc_url=None)
    for router in routers:
        app.include_router(router)

    def render(error: PorticoError) -> JSONResponse:
        headers = {**_id_header(), **error.response_headers()}
        return JSONResponse(error.payload(), status_code=error.status, headers=headers)

    @app.exception_handler(PorticoError)
    async def _portico(request: Any, exc: PorticoError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Any, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return render(NotFound(f"No route {request.method} {request.url.path}.", code="unknown_route"))
        code = "method_not_allowed" if exc.status_code == 405 else None
        return render(PorticoError(str(exc.detail), status=exc.status_code, code=code))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Any, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return render(InvalidRequest(f"Invalid value for '{where}': {first['msg']}.", param=where or None))

    return app


def _id_header() -> dict[str, str]:
    return {"x-request-id": "req-" + uuid.uuid4().hex}


def create_app(settings: Settings, *, gateway: Gateway | None = None) -> PorticoApp:
    """Build the ASGI app for ``settings`` (or around a pre-assembled ``gateway``)."""
    if gateway is None:
        from portico.assembly import assemble

        gateway = assemble(settings)
    return PorticoApp(gateway)
