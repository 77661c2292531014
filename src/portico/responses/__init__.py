"""The OpenAI Responses API: a third dialect over the shared pipeline, plus stored responses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.responses.service import ResponsesService
    from portico.responses.settings import ResponsesSettings
    from portico.responses.store import MemoryResponseStore, ResponseStore, StoredResponse
    from portico.responses.tools import ToolKinds

_HOMES = {
    "MemoryResponseStore": "store",
    "ResponseStore": "store",
    "ResponsesService": "service",
    "ResponsesSettings": "settings",
    "StoredResponse": "store",
    "ToolKinds": "tools",
}
__all__ = [
    "MemoryResponseStore",
    "ResponseStore",
    "ResponsesService",
    "ResponsesSettings",
    "StoredResponse",
    "ToolKinds",
]
__getattr__ = lazy_exports(__name__, _HOMES)
