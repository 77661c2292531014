"""Ledger: prompt tokens and input dollars saved by compression.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("portico_ledger") as batch:
        batch.add_column(sa.Column("compression_saved_tokens", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("compression_saved_usd", sa.Float, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("portico_ledger") as batch:
        batch.drop_column("compression_saved_usd")
        batch.drop_column("compression_saved_tokens")
