"""The ASGI application: one door in front of every route.

For every HTTP request the door (``PorticoApp``) finds the route, gives the request its id
(the client's ``x-request-id`` or a new one, echoed on every answer), runs the one access
check for the route's declared level (``portico.auth.access``), and only then calls the
handler. Routes come from the gateway's features (``portico.feature``): hot-path routes
are dispatched by one dict lookup, because a framework's routing and dependency injection
cost more per request than the rest of the gateway; FastAPI routers (admin, ...) are served
by a FastAPI app behind the door. Every ``/v1/...`` route also answers without ``/v1``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portico.config import Settings
from portico.errors import HeadersTooLarge, InvalidRequest, NotFound, PorticoError, UnsupportedMediaType, internal_error
from portico.feature import GRANT_KEY, HEADERS_KEY, REQUEST_ID_KEY, Access, Mount, Route
from portico.gateway import Gateway
from portico.server.asgi import Message, Receive, Scope, Send, header_map, send_error
from portico.server.cors import Cors

log = logging.getLogger("portico")
V1 = "/v1"


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One route as served: for the route-access matrix test, the fuzzer and the docs."""

    method: str
    path: str
    access: Access
    kind: str  # "hot" (dict dispatch) or "mounted" (FastAPI)


class _Templated:
    """A hot route with one trailing path parameter: ``/v1/models/{model:path}``."""

    def __init__(self, route: Route) -> None:
        self.route = route
        head, _, param = route.path.partition("{")
        self.prefix = head
        self.name, _, kind = param.rstrip("}").partition(":")
        self.any_depth = kind == "path"

    def match(self, path: str) -> str | None:
        if not path.startswith(self.prefix) or len(path) == len(self.prefix):
            return None
        value = path[len(self.prefix) :]
        return value if self.any_depth or "/" not in value else None


def request_id(headers: dict[str, str]) -> str:
    given = headers.get("x-request-id", "")
    return given if 0 < len(given) <= 128 and given.isprintable() else "req-" + uuid.uuid4().hex


class PorticoApp:
    """ASGI callable around a composed gateway; building it freezes the gateway."""

    def __init__(self, gateway: Gateway) -> None:
        gateway.freeze()
        self.gateway = gateway
        self.access = gateway.access
        self.cors = Cors(gateway.settings.server.cors)
        server = gateway.settings.server
        self._max_lines, self._max_bytes = server.max_header_lines, server.max_header_bytes
        self._too_large = (
            f"Request headers exceed {server.max_header_lines} lines or {server.max_header_bytes} bytes "
            "(server.max_header_lines / server.max_header_bytes)."
        )
        self._tracing = gateway.tracing
        self._routes: dict[tuple[str, str], Route] = {}
        self._templated: list[_Templated] = []
        for route in gateway.routes:
            for path in _with_alias(route.path):
                if "{" in path:
                    self._templated.append(_Templated(Route(route.method, path, route.handler, route.access)))
                else:
                    self._routes.setdefault((route.method, path), route)
        self._paths = {path for _, path in self._routes}
        self._mounted: Any = None
        self._levels: tuple[tuple[Any, Access], ...] = ()
        if gateway.mounts:
            self._mounted, self._levels = build_mounted_app(gateway.mounts)

    def route_table(self) -> list[RouteInfo]:
        """Every route this app serves (without the ``/v1``-less aliases), with its access level."""
        out = [RouteInfo(r.method, r.path, r.access, "hot") for r in self.gateway.routes]
        for route, level in self._levels:
            for method, path in _flatten(route):
                out.append(RouteInfo(method, path, level, "mounted"))
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self._tracing is None:
                await self._http(scope, receive, send)
            else:  # the request's SERVER span around everything, the door included
                await self._tracing.serve(scope, receive, send, self._http)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.gateway.started:  # an ASGI client without lifespan (tests)
            await self.gateway.start()
        raw = scope["headers"]
        if len(raw) > self._max_lines or sum([len(k) + len(v) for k, v in raw]) > self._max_bytes:
            await send_error(send, HeadersTooLarge(self._too_large, headers={"connection": "close"}))
            return
        headers = header_map(scope)
        rid = request_id(headers)
        scope[HEADERS_KEY] = headers
        scope[REQUEST_ID_KEY] = rid
        # Hot handlers put the request id on their answers themselves; the wrapper does it for
        # everything else (mounted routers, errors) and adds CORS headers when CORS is on.
        answer = _Answer(send, rid, self.cors.response_headers(headers)) if self.cors.enabled else None
        method, path = scope["method"], scope["path"]
        route = self._routes.get((method, path))
        try:
            if route is not None:
                grant = self.access.without_key(route.access)
                if grant is None:
                    grant = await self.access.check(route.access, headers, rid, method + " " + path)
                scope[GRANT_KEY] = grant
                await route.handler(self.gateway, scope, receive, answer or send)
                return
            answer = answer or _Answer(send, rid, [])
            await self._slow_path(scope, receive, answer, headers, rid)
        except PorticoError as exc:
            await _fail(answer or _Answer(send, rid, []), exc)
        except Exception:
            log.exception("unhandled error on %s (request id %s)", path, rid)
            await _fail(answer or _Answer(send, rid, []), internal_error(rid))

    async def _slow_path(
        self, scope: Scope, receive: Receive, send: _Answer, headers: dict[str, str], rid: str
    ) -> None:
        """Preflights, templated hot routes, mounted routers, /v1-less aliases, 404 and 405."""
        method, path = scope["method"], scope["path"]
        if method == "OPTIONS" and self.cors.is_preflight(headers):
            await self.cors.preflight(headers, send)
            return
        for t in self._templated:
            if t.route.method == method and (value := t.match(path)) is not None:
                scope["path_params"] = {t.name: value}
                scope[GRANT_KEY] = await self.access.check(t.route.access, headers, rid, f"{method} {t.route.path}")
                await t.route.handler(self.gateway, scope, receive, send)
                return
        level = self._mounted_level(scope)
        if level is None and not path.startswith(V1 + "/"):
            aliased = {**scope, "path": V1 + path, "raw_path": (V1 + path).encode()}
            if (level := self._mounted_level(aliased)) is not None:
                scope = aliased
        if level is not None:
            scope[GRANT_KEY] = await self.access.check(level, headers, rid, f"{method} {scope['path']}")
            if level is Access.ADMIN:
                _json_body(scope, headers)
            await self._mounted(scope, receive, send)
            return
        if path in self._paths or any(t.match(path) is not None for t in self._templated):
            raise PorticoError(f"Method {method} is not allowed on {path}.", code="method_not_allowed", status=405)
        raise NotFound(f"No route {method} {path}.", code="unknown_route")

    def _mounted_level(self, scope: Scope) -> Access | None:
        """The level of the mounted route ``scope`` reaches (routes as they were when frozen)."""
        if self._mounted is None:
            return None
        from starlette.routing import Match

        partial: Access | None = None
        for route, level in self._levels:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return level
            if match is Match.PARTIAL and partial is None:
                partial = level  # the path exists with another method: 405 after the check
        return partial

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


class _Answer:
    """``send`` that puts the request id (and CORS headers) on the answer unless the handler did."""

    __slots__ = ("_send", "extra", "started")

    def __init__(self, send: Send, rid: str, cors: list[tuple[bytes, bytes]]) -> None:
        self._send = send
        self.extra = [(b"x-request-id", rid.encode("latin-1")), *cors]
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            raw = list(message.get("headers", ()))
            present = {k.lower() for k, _ in raw}
            raw.extend(h for h in self.extra if h[0] not in present)
            message = {**message, "headers": raw}
        await self._send(message)


async def _fail(send: _Answer, error: PorticoError) -> None:
    if send.started:  # the handler already answered: nothing more can be said on this response
        log.warning("error after the response started: %s", error.message)
        return
    await send_error(send, error)


def _json_body(scope: Scope, headers: dict[str, str]) -> None:
    """The admin API takes JSON: a body without Content-Type is read as JSON (``curl -d`` users
    forget the header); a body declared as something else gets 415 naming the header."""
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if not has_body or scope["method"] not in ("POST", "PUT", "PATCH"):
        return
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind:
        scope["headers"] = [*scope.get("headers", ()), (b"content-type", b"application/json")]
    elif kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(
            f"The admin API takes JSON: send 'Content-Type: application/json' (got '{kind}').", param="content-type"
        )


def _with_alias(path: str) -> Iterable[str]:
    yield path
    if path.startswith(V1 + "/"):
        yield path[len(V1) :]


def _flatten(route: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    """(method, path) of every endpoint under a mounted route (routers included in routers too)."""
    inner = getattr(route, "original_router", None)
    if inner is not None:
        context = getattr(route, "include_context", None)
        for r in inner.routes:
            yield from _flatten(r, prefix + getattr(context, "prefix", ""))
        return
    path = prefix + getattr(route, "path", "")
    methods = getattr(route, "methods", None)
    if methods is None:  # an ASGI app mounted under a prefix: any method
        yield "*", path
        return
    for method in sorted(methods):
        if method != "HEAD":
            yield method, path


def build_mounted_app(mounts: Iterable[Mount]) -> tuple[Any, tuple[tuple[Any, Access], ...]]:
    """FastAPI for the mounted routers, rendering every error in the OpenAI shape; and each of
    its top-level routes with the access level of the Mount it came from."""
    from fastapi import APIRouter, FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    app = FastAPI(title="Portico", docs_url=None, redoc_url=None, openapi_url=None)
    levels: list[tuple[Any, Access]] = []
    for mount in mounts:
        before = len(app.router.routes)
        if mount.prefix is not None:
            app.mount(mount.prefix, mount.router)
        elif isinstance(mount.router, APIRouter):
            app.include_router(mount.router)
        else:
            raise TypeError(f"a Mount takes a FastAPI APIRouter (or an ASGI app with a prefix), not {mount.router!r}")
        levels.extend((r, mount.access) for r in app.router.routes[before:])
    if len(levels) != len(app.router.routes):  # nothing may be served that no Mount declared
        raise TypeError("the mounted app serves routes without an access level")

    def render(error: PorticoError) -> JSONResponse:
        return JSONResponse(error.payload(), status_code=error.status, headers=error.response_headers())

    @app.exception_handler(PorticoError)
    async def _portico(request: Any, exc: PorticoError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Any, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return render(NotFound(f"No route {request.method} {request.url.path}.", code="unknown_route"))
        code = "method_not_allowed" if exc.status_code == 405 else None
        return render(PorticoError(str(exc.detail), status=exc.status_code, code=code))

    @app.exception_handler(Exception)
    async def _bug(request: Any, exc: Exception) -> JSONResponse:
        # Starlette still re-raises it after this answer: the door logs it once, with the request id.
        return render(internal_error(request.scope.get(REQUEST_ID_KEY, "-")))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Any, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return render(InvalidRequest(f"Invalid value for '{where}': {first['msg']}.", param=where or None))

    return app, tuple(levels)


def create_app(settings: Settings, *, gateway: Gateway | None = None) -> PorticoApp:
    """Build the ASGI app for ``settings`` (or around a composed ``gateway``)."""
    if gateway is None:
        from portico.assembly import assemble

        gateway = assemble(settings)
    return PorticoApp(gateway)
