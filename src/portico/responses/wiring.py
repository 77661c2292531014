"""The Responses API as a feature: the create route on the hot path, the stored-response
router, and the store's start/stop. The SQL store with storage on, else memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.feature import Access, Feature, Mount, Route
from portico.responses.service import ResponsesService
from portico.responses.store import MemoryResponseStore, ResponseStore
from portico.responses.tools import ToolKinds

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.config import Settings


def responses_service(
    settings: Settings, controls: Controls | None = None, tools: ToolKinds | None = None
) -> ResponsesService:
    """Stored responses share the controls' database engine when there is one (one pool);
    without storage they live in a bounded in-process store. ``tools`` lets a feature add
    hosted tool types (e.g. ``file_search``)."""
    store: ResponseStore
    if settings.storage.enabled:
        from portico.responses.sql import SqlResponseStore
        from portico.storage.sql import SqlStore

        shared = controls.store if controls is not None and isinstance(controls.store, SqlStore) else None
        store = SqlResponseStore(settings.storage, engine=shared.engine if shared is not None else None)
    else:
        store = MemoryResponseStore(settings.responses.memory_max_items)
    return ResponsesService(settings.responses, store, tools)


def responses_feature(service: ResponsesService) -> Feature:
    from portico.responses.routes import responses_router

    return Feature(
        "responses",
        routes=(Route("POST", "/v1/responses", service.create, Access.KEY),),
        mounts=(Mount(responses_router(service), Access.KEY),),
        on_start=(service.start,),
        on_stop=(service.stop,),
    )
