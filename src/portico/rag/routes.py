"""HTTP routes of the vector stores API (``/v1/vector_stores``, OpenAI's shapes)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from portico.errors import InvalidRequest
from portico.files import Owner, owner_of
from portico.rag.records import FileBatch, VectorStoreFile
from portico.rag.service import MODES, VectorStoreService

# The SDK's create_and_poll / upload_and_poll wait this long between polls.
POLL_AFTER_MS = "200"
Page = Annotated[int, Query(ge=1, le=100)]
OrderQ = Literal["asc", "desc"]


def _page(data: list[dict[str, Any]], has_more: bool, key: str = "id") -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0][key] if data else None,
        "last_id": data[-1][key] if data else None,
        "has_more": has_more,
    }


def _polled(payload: dict[str, Any]) -> JSONResponse:
    return JSONResponse(payload, headers={"openai-poll-after-ms": POLL_AFTER_MS})


def _body(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return value


def vector_stores_router(service: VectorStoreService) -> APIRouter:
    """Mounted with ``Access.KEY``: the door checked the key; the owner is the door's grant."""
    router = APIRouter(prefix="/v1/vector_stores", tags=["vector_stores"])

    async def who(request: Request) -> Owner:
        return owner_of(request.scope)

    def now() -> float:
        return service.clock()

    @router.post("")
    async def create(request: Request, body: Annotated[Any, Body()] = None) -> dict[str, Any]:
        b = _body(body)
        file_ids = b.get("file_ids") or []
        if not isinstance(file_ids, list) or not all(isinstance(f, str) for f in file_ids):
            raise InvalidRequest("file_ids must be a list of file ids.", param="file_ids")
        mode = b.get("portico_mode")
        if mode is not None and mode not in MODES:
            raise InvalidRequest(f"portico_mode must be one of {', '.join(MODES)}.", param="portico_mode")
        store = await service.create(
            await who(request),
            name=b.get("name") if isinstance(b.get("name"), str) else None,
            file_ids=file_ids,
            expires_after=b.get("expires_after"),
            chunking_strategy=b.get("chunking_strategy"),
            metadata=b.get("metadata"),
            mode=mode,
        )
        return store.public(now())

    @router.get("")
    async def list_stores(
        request: Request, limit: Page = 20, order: OrderQ = "desc", after: str | None = None
    ) -> dict[str, Any]:
        stores, more = await service.list_stores(await who(request), after=after, limit=limit, order=order)
        return _page([s.public(now()) for s in stores], more)

    @router.get("/{store_id}")
    async def retrieve(request: Request, store_id: str) -> dict[str, Any]:
        return (await service.get(await who(request), store_id)).public(now())

    @router.post("/{store_id}")
    async def modify(request: Request, store_id: str, body: Annotated[Any, Body()] = None) -> dict[str, Any]:
        b = _body(body)
        store = await service.update(
            await who(request),
            store_id,
            name=b.get("name") if isinstance(b.get("name"), str) else None,
            expires_after=b.get("expires_after"),
            metadata=b.get("metadata"),
        )
        return store.public(now())

    @router.delete("/{store_id}")
    async def delete(request: Request, store_id: str) -> dict[str, Any]:
        store = await service.delete(await who(request), store_id)
        return {"id": store.id, "object": "vector_store.deleted", "deleted": True}

    # ---- files -----------------------------------------------------------------------------
    @router.post("/{store_id}/files")
    async def add_file(request: Request, store_id: str, body: Annotated[Any, Body()] = None) -> JSONResponse:
        b = _body(body)
        file_id = b.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise InvalidRequest("Missing 'file_id'.", param="file_id")
        record = await service.add_file(
            await who(request),
            store_id,
            file_id,
            attributes=b.get("attributes"),
            chunking_strategy=b.get("chunking_strategy"),
        )
        return _polled(record.public())

    @router.get("/{store_id}/files")
    async def list_files(
        request: Request,
        store_id: str,
        limit: Page = 20,
        order: OrderQ = "desc",
        after: str | None = None,
        filter: Literal["in_progress", "completed", "failed", "cancelled"] | None = None,
    ) -> dict[str, Any]:
        rows, more = await service.list_files(
            await who(request), store_id, status=filter, after=after, limit=limit, order=order
        )
        return _page([r.public() for r in rows], more)

    @router.get("/{store_id}/files/{file_id}")
    async def get_file(request: Request, store_id: str, file_id: str) -> JSONResponse:
        record: VectorStoreFile = await service.get_file(await who(request), store_id, file_id)
        return _polled(record.public())

    @router.post("/{store_id}/files/{file_id}")
    async def update_file(
        request: Request, store_id: str, file_id: str, body: Annotated[Any, Body()] = None
    ) -> dict[str, Any]:
        b = _body(body)
        return (await service.update_file(await who(request), store_id, file_id, b.get("attributes"))).public()

    @router.delete("/{store_id}/files/{file_id}")
    async def remove_file(request: Request, store_id: str, file_id: str) -> dict[str, Any]:
        record = await service.remove_file(await who(request), store_id, file_id)
        return {"id": record.file_id, "object": "vector_store.file.deleted", "deleted": True}

    # ---- batches ---------------------------------------------------------------------------
    @router.post("/{store_id}/file_batches")
    async def create_batch(request: Request, store_id: str, body: Annotated[Any, Body()] = None) -> JSONResponse:
        b = _body(body)
        file_ids = b.get("file_ids") or []
        files = b.get("files") or []
        if not isinstance(file_ids, list) or not isinstance(files, list):
            raise InvalidRequest("file_ids and files must be lists.", param="file_ids")
        batch = await service.create_batch(
            await who(request),
            store_id,
            file_ids=file_ids,
            files=files,
            attributes=b.get("attributes"),
            chunking_strategy=b.get("chunking_strategy"),
        )
        return _polled(batch.public())

    @router.get("/{store_id}/file_batches/{batch_id}")
    async def get_batch(request: Request, store_id: str, batch_id: str) -> JSONResponse:
        batch: FileBatch = await service.get_batch(await who(request), store_id, batch_id)
        return _polled(batch.public())

    @router.post("/{store_id}/file_batches/{batch_id}/cancel")
    async def cancel_batch(request: Request, store_id: str, batch_id: str) -> dict[str, Any]:
        return (await service.cancel_batch(await who(request), store_id, batch_id)).public()

    @router.get("/{store_id}/file_batches/{batch_id}/files")
    async def batch_files(
        request: Request,
        store_id: str,
        batch_id: str,
        limit: Page = 20,
        order: OrderQ = "desc",
        after: str | None = None,
        filter: Literal["in_progress", "completed", "failed", "cancelled"] | None = None,
    ) -> dict[str, Any]:
        owner = await who(request)
        await service.get_batch(owner, store_id, batch_id)
        rows, more = await service.list_files(
            owner, store_id, batch_id=batch_id, status=filter, after=after, limit=limit, order=order
        )
        return _page([r.public() for r in rows], more)

    # ---- search ----------------------------------------------------------------------------
    @router.post("/{store_id}/search")
    async def search(request: Request, store_id: str, body: Annotated[Any, Body()] = None) -> dict[str, Any]:
        b = _body(body)
        query = b.get("query")
        if not (isinstance(query, str) or (isinstance(query, list) and all(isinstance(q, str) for q in query))):
            raise InvalidRequest("'query' must be a string or a list of strings.", param="query")
        ranking = b.get("ranking_options") or {}
        if not isinstance(ranking, dict):
            raise InvalidRequest("ranking_options must be an object.", param="ranking_options")
        threshold = ranking.get("score_threshold")
        if threshold is not None and (not isinstance(threshold, int | float) or not 0 <= threshold <= 1):
            raise InvalidRequest(
                "ranking_options.score_threshold must be a number from 0 to 1.", param="ranking_options"
            )
        ranker = ranking.get("ranker", "auto")
        if ranker not in ("auto", "default-2024-11-15", *MODES):
            raise InvalidRequest(
                f"ranking_options.ranker must be auto, default-2024-11-15 or one of {', '.join(MODES)}.",
                param="ranking_options.ranker",
            )
        max_results = b.get("max_num_results", 10)
        if not isinstance(max_results, int) or isinstance(max_results, bool):
            raise InvalidRequest("max_num_results must be an integer.", param="max_num_results")
        results = await service.search(
            await who(request),
            store_id,
            query,
            max_num_results=max_results,
            filters=b.get("filters"),
            score_threshold=float(threshold) if threshold is not None else None,
            mode=ranker if ranker in MODES else None,
        )
        return {
            "object": "vector_store.search_results.page",
            "search_query": [query] if isinstance(query, str) else query,
            "data": [r.public() for r in results],
            "has_more": False,
            "next_page": None,
        }

    return router
