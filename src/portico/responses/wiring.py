"""Build the Responses service from Settings: the SQL store with storage on, else memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.responses.service import ResponsesService
from portico.responses.store import MemoryResponseStore, ResponseStore

if TYPE_CHECKING:
    from portico.config import Settings


def build_responses(settings: Settings) -> ResponsesService:
    store: ResponseStore
    if settings.storage.enabled:
        from portico.responses.sql import SqlResponseStore

        store = SqlResponseStore(settings.storage)
    else:
        store = MemoryResponseStore(settings.responses.memory_max_items)
    return ResponsesService(settings.responses, store)
