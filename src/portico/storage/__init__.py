"""Keys, teams, the spend ledger and the audit log: SQLite by default, PostgreSQL for scale.

The SQLAlchemy-backed parts load on first use, so reading the configuration stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portico.storage.records import KeyRecord, KeySpec, Limits, RequestRecord, SpendRow, TeamRecord, TeamSpec
from portico.storage.settings import StorageSettings
from portico.storage.store import SpendGroup, Store

if TYPE_CHECKING:
    from portico.storage.recorder import Recorder
    from portico.storage.sql import SqlStore

__all__ = [
    "KeyRecord",
    "KeySpec",
    "Limits",
    "Recorder",
    "RequestRecord",
    "SpendGroup",
    "SpendRow",
    "SqlStore",
    "StorageSettings",
    "Store",
    "TeamRecord",
    "TeamSpec",
]


def __getattr__(name: str) -> Any:
    if name == "SqlStore":
        from portico.storage.sql import SqlStore

        return SqlStore
    if name == "Recorder":
        from portico.storage.recorder import Recorder

        return Recorder
    raise AttributeError(name)
