"""The stored-response endpoints as a FastAPI router (path parameters, query strings)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from portico.responses.service import ResponsesService


def _json(payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


def responses_router(service: ResponsesService) -> APIRouter:
    """GET / DELETE ``/v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items``."""
    router = APIRouter()

    @router.get("/v1/responses/{response_id}")
    async def retrieve(request: Request, response_id: str) -> Response:
        return _json(await service.retrieve(request.scope, response_id, dict(request.query_params)))

    @router.delete("/v1/responses/{response_id}")
    async def delete(request: Request, response_id: str) -> Response:
        return _json(await service.delete(request.scope, response_id))

    @router.get("/v1/responses/{response_id}/input_items")
    async def input_items(request: Request, response_id: str) -> Response:
        return _json(await service.input_items(request.scope, response_id, dict(request.query_params)))

    return router
