"""Stored Responses API responses, per owner, with an expiry.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portico_responses",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("input_items", sa.JSON, nullable=False),
        sa.Column("conversation", sa.JSON, nullable=False),
    )
    op.create_index("ix_portico_responses_expires_at", "portico_responses", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_portico_responses_expires_at", "portico_responses")
    op.drop_table("portico_responses")
