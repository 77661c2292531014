"""Uploaded files: metadata of /v1/files (the bytes live in the blob store).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portico_files",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(512), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_index("ix_portico_files_owner_created", "portico_files", ["owner", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_portico_files_owner_created", table_name="portico_files")
    op.drop_table("portico_files")
