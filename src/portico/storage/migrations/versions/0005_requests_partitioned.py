"""One compact request table (ledger + audit), time-partitioned on PostgreSQL, and a per-day spend rollup.

Replaces portico_ledger and portico_audit, which repeated every ledger column in the audit
row. Existing rows are copied (into the default partition on PostgreSQL; ``maintain`` moves
rows of the partitions it creates) and the rollup is built from the old ledger.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = (
    "ts, cost_usd, compression_saved_usd, latency_ms, upstream_ms, prompt_tokens, completion_tokens, "
    "compression_saved_tokens, status, attempts, stream, billable, "
    "record_id, request_id, key_id, team_id, model_requested, model_served, deployment, route_reason, "
    "cache_status, error_code, findings, prompt_text, response_text"
)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "portico_requests",
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("compression_saved_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("latency_ms", sa.REAL, nullable=False),
        sa.Column("upstream_ms", sa.REAL, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("compression_saved_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("attempts", sa.SmallInteger, nullable=False),
        sa.Column("stream", sa.Boolean, nullable=False),
        sa.Column("billable", sa.Boolean, nullable=False),
        sa.Column("record_id", sa.String(80), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(40)),
        sa.Column("team_id", sa.String(40)),
        sa.Column("model_requested", sa.String(200), nullable=False),
        sa.Column("model_served", sa.String(200), nullable=False),
        sa.Column("deployment", sa.String(200), nullable=False),
        sa.Column("route_reason", sa.Text, nullable=False),
        sa.Column("cache_status", sa.String(80), nullable=False),
        sa.Column("error_code", sa.String(80)),
        sa.Column("findings", sa.JSON),
        sa.Column("prompt_text", sa.Text),
        sa.Column("response_text", sa.Text),
        sa.PrimaryKeyConstraint("record_id", "ts", name="pk_portico_requests"),
        postgresql_partition_by="RANGE (ts)" if pg else None,
    )
    op.create_index("ix_portico_requests_request_id", "portico_requests", ["request_id"])
    op.create_index("ix_portico_requests_key_ts", "portico_requests", ["key_id", "ts"])
    op.create_index("ix_portico_requests_ts", "portico_requests", ["ts"])
    if pg:
        op.execute("CREATE TABLE portico_requests_default PARTITION OF portico_requests DEFAULT")
    op.create_table(
        "portico_spend_daily",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("team_id", sa.String(40), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
        sa.Column("completion_tokens", sa.BigInteger, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("day", "key_id", "team_id", "model", name="pk_portico_spend_daily"),
    )
    op.create_index("ix_portico_spend_daily_key_day", "portico_spend_daily", ["key_id", "day"])
    op.create_index("ix_portico_spend_daily_team_day", "portico_spend_daily", ["team_id", "day"])

    findings = "CASE WHEN CAST(a.findings AS TEXT) = '[]' THEN NULL ELSE a.findings END"
    op.execute(
        f"INSERT INTO portico_requests ({_COLUMNS}) SELECT a.ts, a.cost_usd, COALESCE(l.compression_saved_usd, 0), "
        "a.latency_ms, 0, a.prompt_tokens, a.completion_tokens, COALESCE(l.compression_saved_tokens, 0), a.status, 0, "
        "a.stream, l.record_id IS NOT NULL, a.record_id, a.request_id, a.key_id, "
        "a.team_id, a.model_requested, a.model_served, a.deployment, a.route_reason, a.cache_status, a.error_code, "
        f"{findings}, a.prompt_text, a.response_text "
        "FROM portico_audit a LEFT JOIN portico_ledger l ON l.record_id = a.record_id"
    )
    op.execute(
        "INSERT INTO portico_spend_daily SELECT day, COALESCE(key_id, ''), COALESCE(team_id, ''), model, count(*), "
        "SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd) FROM portico_ledger "
        "GROUP BY day, COALESCE(key_id, ''), COALESCE(team_id, ''), model"
    )
    op.drop_table("portico_audit")
    op.drop_table("portico_ledger")


def downgrade() -> None:
    raise NotImplementedError("0005 merges the ledger and audit tables; restore a backup to go back to 0004")
