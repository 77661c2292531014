"""Build the Responses service from Settings: the SQL store with storage on, else memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.responses.service import ResponsesService
from portico.responses.store import MemoryResponseStore, ResponseStore

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.config import Settings


def build_responses(settings: Settings, controls: Controls | None = None) -> ResponsesService:
    """Stored responses share the controls' database engine when there is one (one pool);
    without storage they live in a bounded in-process store."""
    store: ResponseStore
    if settings.storage.enabled:
        from portico.responses.sql import SqlResponseStore
        from portico.storage.sql import SqlStore

        shared = controls.store if controls is not None and isinstance(controls.store, SqlStore) else None
        store = SqlResponseStore(settings.storage, engine=shared.engine if shared is not None else None)
    else:
        store = MemoryResponseStore(settings.responses.memory_max_items)
    return ResponsesService(settings.responses, store)
