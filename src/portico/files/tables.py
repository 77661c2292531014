"""SQLAlchemy Core table of file metadata (created by migration 0002)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, MetaData, String, Table

metadata = MetaData()

files = Table(
    "portico_files",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("filename", String(512), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("status", String(20), nullable=False),
    Index("ix_portico_files_owner_created", "owner", "created_at"),
)
