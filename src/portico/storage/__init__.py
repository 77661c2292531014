"""Keys, teams, the spend ledger and the audit log: SQLite by default, PostgreSQL for scale.

The SQLAlchemy-backed parts load on first use, so reading the configuration stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.storage.recorder import Recorder
    from portico.storage.records import KeyRecord, KeySpec, Limits, RequestRecord, SpendRow, TeamRecord, TeamSpec
    from portico.storage.settings import StorageSettings
    from portico.storage.sql import SqlStore
    from portico.storage.store import SpendGroup, Store

_HOMES = {
    "KeyRecord": "records",
    "KeySpec": "records",
    "Limits": "records",
    "Recorder": "recorder",
    "RequestRecord": "records",
    "SpendGroup": "store",
    "SpendRow": "records",
    "SqlStore": "sql",
    "StorageSettings": "settings",
    "Store": "store",
    "TeamRecord": "records",
    "TeamSpec": "records",
}
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
__getattr__ = lazy_exports(__name__, _HOMES)
