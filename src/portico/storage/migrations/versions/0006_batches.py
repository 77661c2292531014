"""Batches and their lines: each line's state is durable, so a restarted runner resumes.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portico_batches",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(60), nullable=False),
        sa.Column("input_file_id", sa.String(40), nullable=False),
        sa.Column("completion_window", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("errors", sa.JSON),
        sa.Column("output_file_id", sa.String(40)),
        sa.Column("error_file_id", sa.String(40)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("in_progress_at", sa.Float),
        sa.Column("finalizing_at", sa.Float),
        sa.Column("completed_at", sa.Float),
        sa.Column("failed_at", sa.Float),
        sa.Column("expired_at", sa.Float),
        sa.Column("cancelling_at", sa.Float),
        sa.Column("cancelled_at", sa.Float),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("completed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("lease_owner", sa.String(80)),
        sa.Column("lease_until", sa.Float),
    )
    op.create_index("ix_portico_batches_owner_created", "portico_batches", ["owner", "created_at"])
    op.create_index("ix_portico_batches_status", "portico_batches", ["status"])
    op.create_table(
        "portico_batch_lines",
        sa.Column("batch_id", sa.String(40), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("custom_id", sa.String(512), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("result", sa.Text),
        sa.Column("cost_usd", sa.Float, nullable=False),
    )
    op.create_index("ix_portico_batch_lines_state", "portico_batch_lines", ["batch_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_portico_batch_lines_state", table_name="portico_batch_lines")
    op.drop_table("portico_batch_lines")
    op.drop_index("ix_portico_batches_status", table_name="portico_batches")
    op.drop_index("ix_portico_batches_owner_created", table_name="portico_batches")
    op.drop_table("portico_batches")
