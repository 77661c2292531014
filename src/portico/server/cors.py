"""CORS: off unless ``server.cors.origins`` lists origins; preflights answered at the door.

A preflight carries no credentials, so it is answered before the access check; the real
request that follows goes through the door like any other.
"""

from __future__ import annotations

from collections.abc import Mapping

from portico.config import CorsSettings
from portico.errors import PermissionDenied
from portico.server.asgi import Send

_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_EXPOSE = b"x-request-id, x-portico-route, x-portico-cache, x-portico-cost-usd, x-portico-overhead-ms, retry-after"


class Cors:
    def __init__(self, settings: CorsSettings) -> None:
        self.enabled = bool(settings.origins)
        self.any = "*" in settings.origins
        self.origins = frozenset(settings.origins)
        self.allow_headers = ", ".join(settings.allow_headers)
        self.max_age = str(settings.max_age)

    def allowed(self, origin: str) -> bool:
        return self.any or origin in self.origins

    def is_preflight(self, headers: Mapping[str, str]) -> bool:
        return self.enabled and "origin" in headers and "access-control-request-method" in headers

    def response_headers(self, headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
        """Headers for an actual (non-preflight) answer to a request from an allowed origin."""
        if not self.enabled:
            return []
        origin = headers.get("origin")
        if origin is None or not self.allowed(origin):
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", _EXPOSE),
            (b"vary", b"Origin"),
        ]

    async def preflight(self, headers: Mapping[str, str], send: Send) -> None:
        origin = headers["origin"]
        if not self.allowed(origin):
            raise PermissionDenied(f"CORS: origin '{origin}' is not allowed (server.cors.origins).", code="cors_origin")
        raw = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", _METHODS.encode()),
            (b"access-control-allow-headers", self.allow_headers.encode()),
            (b"access-control-max-age", self.max_age.encode()),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": raw})
        await send({"type": "http.response.body", "body": b""})
