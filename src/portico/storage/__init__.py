"""Keys, teams, the spend ledger and the audit log: SQLite by default, PostgreSQL for scale."""

from portico.storage.records import (
    KeyRecord,
    KeySpec,
    Limits,
    RequestRecord,
    SpendRow,
    TeamRecord,
    TeamSpec,
)
from portico.storage.recorder import Recorder
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore
from portico.storage.store import SpendGroup, Store

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
