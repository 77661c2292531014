"""SQLAlchemy Core tables (Core, not ORM: the writer inserts batches of plain dicts)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

teams = Table(
    "portico_teams",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("allowed_models", JSON, nullable=False),
    Column("rpm", Integer),
    Column("tpm", Integer),
    Column("max_concurrency", Integer),
    Column("budget_usd", Float),
    Column("budget_period", String(10), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

keys = Table(
    "portico_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("hint", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("owner", String(200)),
    Column("team_id", String(40), ForeignKey("portico_teams.id")),
    Column("allowed_models", JSON, nullable=False),
    Column("rpm", Integer),
    Column("tpm", Integer),
    Column("max_concurrency", Integer),
    Column("budget_usd", Float),
    Column("budget_period", String(10), nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Column("metadata", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("rotated_at", Float),
)

ledger = Table(
    "portico_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(80), nullable=False, unique=True),
    Column("ts", Float, nullable=False),
    Column("day", String(10), nullable=False),
    Column("key_id", String(40)),
    Column("team_id", String(40)),
    Column("model", String(200), nullable=False),
    Column("deployment", String(200), nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("cache_hit", Boolean, nullable=False),
    Column("status", Integer, nullable=False),
    Index("ix_portico_ledger_key_ts", "key_id", "ts"),
    Index("ix_portico_ledger_team_ts", "team_id", "ts"),
    Index("ix_portico_ledger_ts", "ts"),
)

audit = Table(
    "portico_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(80), nullable=False, unique=True),
    Column("ts", Float, nullable=False),
    Column("key_id", String(40)),
    Column("team_id", String(40)),
    Column("model_requested", String(200), nullable=False),
    Column("model_served", String(200), nullable=False),
    Column("deployment", String(200), nullable=False),
    Column("route_reason", String(200), nullable=False),
    Column("status", Integer, nullable=False),
    Column("error_code", String(80)),
    Column("latency_ms", Float, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("cache_status", String(40), nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("findings", JSON, nullable=False),
    Column("prompt_text", Text),
    Column("response_text", Text),
    Index("ix_portico_audit_ts", "ts"),
    Index("ix_portico_audit_key_ts", "key_id", "ts"),
)
