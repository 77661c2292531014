"""SQLAlchemy Core tables of vector stores, their files and file batches (migration 0003)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Integer, MetaData, String, Table

metadata = MetaData()

vector_stores = Table(
    "portico_vector_stores",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("team_id", String(40)),  # set when the store is shared with the owner's team
    Column("name", String(256), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("chunk_max", Integer, nullable=False),
    Column("chunk_overlap", Integer, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("expires_days", Integer),
    Column("created_at", Float, nullable=False),
    Column("last_active_at", Float, nullable=False),
    Index("ix_portico_vector_stores_owner", "owner", "created_at"),
)

vector_store_files = Table(
    "portico_vector_store_files",
    metadata,
    Column("store_id", String(40), primary_key=True),
    Column("file_id", String(40), primary_key=True),
    Column("batch_id", String(40)),
    Column("status", String(20), nullable=False),
    Column("last_error", JSON),
    Column("attributes", JSON, nullable=False),
    Column("sha256", String(64)),
    Column("filename", String(512), nullable=False),
    Column("usage_bytes", BigInteger, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("chunk_max", Integer, nullable=False),
    Column("chunk_overlap", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_portico_vs_files_batch", "batch_id"),
    Index("ix_portico_vs_files_status", "status"),
)

vector_store_batches = Table(
    "portico_vector_store_batches",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("store_id", String(40), nullable=False),
    Column("cancelled", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)
