"""Vector stores, their files and file batches (chunks live in the VectorIndex backend).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portico_vector_stores",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("team_id", sa.String(40)),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("chunk_max", sa.Integer, nullable=False),
        sa.Column("chunk_overlap", sa.Integer, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("expires_days", sa.Integer),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_active_at", sa.Float, nullable=False),
    )
    op.create_index("ix_portico_vector_stores_owner", "portico_vector_stores", ["owner", "created_at"])
    op.create_table(
        "portico_vector_store_files",
        sa.Column("store_id", sa.String(40), primary_key=True),
        sa.Column("file_id", sa.String(40), primary_key=True),
        sa.Column("batch_id", sa.String(40)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("last_error", sa.JSON),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("filename", sa.String(512), nullable=False),
        sa.Column("usage_bytes", sa.BigInteger, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("chunk_max", sa.Integer, nullable=False),
        sa.Column("chunk_overlap", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_portico_vs_files_batch", "portico_vector_store_files", ["batch_id"])
    op.create_index("ix_portico_vs_files_status", "portico_vector_store_files", ["status"])
    op.create_table(
        "portico_vector_store_batches",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("store_id", sa.String(40), nullable=False),
        sa.Column("cancelled", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("portico_vector_store_batches")
    op.drop_index("ix_portico_vs_files_status", table_name="portico_vector_store_files")
    op.drop_index("ix_portico_vs_files_batch", table_name="portico_vector_store_files")
    op.drop_table("portico_vector_store_files")
    op.drop_index("ix_portico_vector_stores_owner", table_name="portico_vector_stores")
    op.drop_table("portico_vector_stores")
