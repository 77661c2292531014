"""HTTP routes of the Batch API: ``/v1/batches`` (OpenAI's shape) over a BatchService."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request

from portico.batch.service import BatchService
from portico.errors import InvalidRequest
from portico.files.access import owner_of


def batches_router(service: BatchService) -> APIRouter:
    """Mounted with ``Access.KEY``: the door checked the key; a batch belongs to its creator."""
    router = APIRouter(prefix="/v1/batches", tags=["batches"])

    @router.post("")
    async def create_batch(request: Request) -> dict[str, Any]:
        owner = owner_of(request.scope)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise InvalidRequest("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        record = await service.create(
            owner.id,
            input_file_id=body.get("input_file_id"),
            endpoint=body.get("endpoint"),
            completion_window=body.get("completion_window"),
            metadata=body.get("metadata"),
        )
        return record.public()

    @router.get("")
    async def list_batches(
        request: Request, after: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> dict[str, Any]:
        owner = owner_of(request.scope)
        rows, more = await service.list(owner.id, after=after, limit=limit)
        data = [r.public() for r in rows]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": more,
        }

    @router.get("/{batch_id}")
    async def retrieve_batch(request: Request, batch_id: str) -> dict[str, Any]:
        owner = owner_of(request.scope)
        return (await service.get(owner.id, batch_id)).public()

    @router.post("/{batch_id}/cancel")
    async def cancel_batch(request: Request, batch_id: str) -> dict[str, Any]:
        owner = owner_of(request.scope)
        return (await service.cancel(owner.id, batch_id)).public()

    return router
