"""Settings of the storage section (``storage:`` in portico.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Durability = Literal["wal", "commit", "none"]


class StorageSettings(BaseModel):
    """Where keys, teams, the spend ledger and the audit log live.

    ``durability`` decides what must hold before a response is released:
    ``wal`` (default) appends the request's ledger+audit record to a local write-ahead file
    and fsyncs it (group commit, shared by concurrent requests), ``commit`` waits for the
    database commit of the batch holding the record, ``none`` only queues it (a crash loses
    the records not yet flushed).
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(
        default=None,
        description="false: a stateless gateway without keys, limits, ledger or audit; "
        "unset: on when auth.master_key is set (open dev mode runs stateless)",
    )
    url: str = "sqlite+aiosqlite:///portico.db"
    schema_name: str | None = Field(
        default=None, description="PostgreSQL schema to use (created if missing); None = the default"
    )
    durability: Durability = "wal"
    wal_dir: str = "portico-wal"
    flush_interval_ms: float = Field(default=50.0, gt=0)
    batch_size: int = Field(default=500, ge=1)
    key_cache_seconds: float = Field(default=5.0, ge=0)
    store_prompts: bool = Field(default=False, description="keep prompt/response text (redacted) in audit rows")
    pool_size: int = Field(default=5, ge=1)
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="maximum age of request rows (audit + ledger detail), enforced by dropping "
        "old partitions on PostgreSQL and deleting on SQLite; None keeps them forever",
    )
    rollup_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="maximum age of the per-day spend rollup (no request content, only sums per "
        "key, team and model); None keeps it (budgets with period 'total' read it)",
    )
    partition: Literal["day", "month"] = Field(
        default="month",
        description="PostgreSQL partition size of the request table: few partitions keep query planning "
        "cheap; whole partitions past the retention are dropped, the rest is deleted hour by hour",
    )
    partitions_ahead: int = Field(default=3, ge=1, le=60, description="partitions created ahead of time")
    maintenance_interval_s: float = Field(
        default=3600.0, gt=0, description="how often partitions are created ahead and retention applied"
    )
