"""SQLAlchemy Core tables of batches and their lines (created by migration 0006)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

batches = Table(
    "portico_batches",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("endpoint", String(60), nullable=False),
    Column("input_file_id", String(40), nullable=False),
    Column("completion_window", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("model", String(200)),
    Column("metadata", JSON, nullable=False),
    Column("errors", JSON),
    Column("output_file_id", String(40)),
    Column("error_file_id", String(40)),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("in_progress_at", Float),
    Column("finalizing_at", Float),
    Column("completed_at", Float),
    Column("failed_at", Float),
    Column("expired_at", Float),
    Column("cancelling_at", Float),
    Column("cancelled_at", Float),
    Column("total", Integer, nullable=False),
    Column("completed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("lease_owner", String(80)),
    Column("lease_until", Float),
    Index("ix_portico_batches_owner_created", "owner", "created_at"),
    Index("ix_portico_batches_status", "status"),
)

batch_lines = Table(
    "portico_batch_lines",
    metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("custom_id", String(512), nullable=False),
    Column("body", Text, nullable=False),  # the request body, JSON
    Column("state", String(10), nullable=False),  # pending | ok | failed
    Column("result", Text),  # the output (or error) file line, JSON
    Column("cost_usd", Float, nullable=False),
    Index("ix_portico_batch_lines_state", "batch_id", "state"),
)
