"""SQLAlchemy Core tables (Core, not ORM: the writer inserts batches of plain dicts)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    REAL,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
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

# One row per request: the spend ledger (``billable``) and the audit log in one compact row.
# Columns are ordered 8-byte, 4-byte, 2-byte, 1-byte, then variable-length, so PostgreSQL
# pads nothing; nothing static (prices, model maps) is repeated per row. On PostgreSQL the
# table is range-partitioned on ``ts`` (see partitions.py): retention drops whole partitions.
requests = Table(
    "portico_requests",
    metadata,
    Column("ts", Float, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("compression_saved_usd", Float, nullable=False, server_default="0"),
    Column("latency_ms", REAL, nullable=False),
    Column("upstream_ms", REAL, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("compression_saved_tokens", Integer, nullable=False, server_default="0"),
    Column("status", SmallInteger, nullable=False),
    Column("attempts", SmallInteger, nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("billable", Boolean, nullable=False),
    Column("record_id", String(80), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("key_id", String(40)),
    Column("team_id", String(40)),
    Column("model_requested", String(200), nullable=False),
    Column("model_served", String(200), nullable=False),
    Column("deployment", String(200), nullable=False),
    Column("route_reason", Text, nullable=False),
    Column("cache_status", String(80), nullable=False),
    Column("error_code", String(80)),
    Column("findings", JSON),  # NULL when no guard had anything to say
    Column("prompt_text", Text),
    Column("response_text", Text),
    # record_id is the idempotency key; ts is in it because a partitioned table's unique
    # constraints must include the partition key (a replayed record keeps its ts).
    PrimaryKeyConstraint("record_id", "ts", name="pk_portico_requests"),
    Index("ix_portico_requests_request_id", "request_id"),
    Index("ix_portico_requests_key_ts", "key_id", "ts"),
    Index("ix_portico_requests_ts", "ts"),
)

# Spend per UTC day, key, team and model, maintained in the transaction that inserts the
# requests: spend reports read days from here and only the partial edge days from requests.
# NULL key/team are stored as '' so the primary key (the upsert's target) holds.
spend_daily = Table(
    "portico_spend_daily",
    metadata,
    Column("day", String(10), nullable=False),
    Column("key_id", String(40), nullable=False),
    Column("team_id", String(40), nullable=False),
    Column("model", String(200), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    PrimaryKeyConstraint("day", "key_id", "team_id", "model", name="pk_portico_spend_daily"),
    Index("ix_portico_spend_daily_key_day", "key_id", "day"),
    Index("ix_portico_spend_daily_team_day", "team_id", "day"),
)
