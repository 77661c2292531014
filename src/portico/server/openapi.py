"""``GET /openapi.json``: the routes this gateway really serves, each with its access level.

Hot-path routes are described from their ``Route`` (body model, path parameters); mounted
FastAPI routers by FastAPI itself. Every operation carries ``x-portico-access`` (public, key,
admin, metrics) and the matching security requirement, so fuzzers and clients see the door.
"""

from __future__ import annotations

import re
from typing import Any

from portico.feature import REQUEST_ID_KEY, Access, Mount, Route
from portico.gateway import Gateway
from portico.server.asgi import Receive, Scope, Send, send_json

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
_ERROR = {"description": "an OpenAI-style error", "content": {"application/json": {"schema": {"type": "object"}}}}


def _security(level: Access, metrics: Access) -> list[dict[str, list[str]]]:
    if level is Access.METRICS:
        level = metrics
    return [] if level is Access.PUBLIC else [{"bearer": []}]


def _hot_operation(route: Route, schemas: dict[str, Any], metrics: Access) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower()).strip('_')}",
        "x-portico-access": route.access.value,
        "security": _security(route.access, metrics),
        "responses": {"200": {"description": "OK"}, "default": _ERROR},
    }
    params = _PARAM.findall(route.path)
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
    if route.method in ("POST", "PUT", "PATCH"):
        schema: dict[str, Any] = {"type": "object"}
        if route.body is not None:
            full = route.body.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(full.pop("$defs", {}))
            schemas[route.body.__name__] = full
            schema = {"$ref": f"#/components/schemas/{route.body.__name__}"}
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return op


def _mounted_paths(mounts: tuple[Mount, ...], metrics: Access) -> tuple[dict[str, Any], dict[str, Any]]:
    from fastapi.openapi.utils import get_openapi

    from portico.server.app import _flatten, build_mounted_app

    app, levels = build_mounted_app(mounts)
    level_of = {(m, p): level for route, level in levels for m, p in _flatten(route)}
    doc = get_openapi(title="Portico", version="1", routes=app.routes)
    paths: dict[str, Any] = doc.get("paths", {})
    for path, item in paths.items():
        for method, op in item.items():
            level = level_of.get((method.upper(), path))
            if level is not None:  # (an operation without a level is counted by the fuzzer)
                op["x-portico-access"] = level.value
                op["security"] = _security(level, metrics)
    return paths, doc.get("components", {}).get("schemas", {})


def openapi_document(gateway: Gateway) -> dict[str, Any]:
    metrics = gateway.access.metrics
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    if gateway.mounts:
        mounted, mounted_schemas = _mounted_paths(gateway.mounts, metrics)
        paths.update(mounted)
        schemas.update(mounted_schemas)
    for route in gateway.routes:
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _hot_operation(route, schemas, metrics)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Portico", "version": "1", "description": "Every operation's x-portico-access is its level."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


class OpenAPIRoute:
    """The handler of ``GET /openapi.json``; the document is built on first use, then kept."""

    def __init__(self) -> None:
        self._doc: dict[str, Any] | None = None

    async def __call__(self, gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
        if self._doc is None:
            self._doc = openapi_document(gateway)
        await send_json(send, 200, self._doc, {"x-request-id": scope[REQUEST_ID_KEY]})
