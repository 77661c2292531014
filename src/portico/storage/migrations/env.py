"""Alembic environment: always run programmatically with a connection handed in by ``migrate``."""

from __future__ import annotations

from alembic import context

from portico.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table="portico_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
