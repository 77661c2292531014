"""Stored responses in SQL (SQLite embedded, PostgreSQL at scale): table ``portico_responses``,
created by the package's Alembic migrations like every other Portico table."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Column, Float, MetaData, String, Table, and_, delete, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from portico.responses.store import StoredResponse
from portico.storage.migrate import migrate
from portico.storage.settings import StorageSettings
from portico.storage.sql import create_engine

_metadata = MetaData()
responses = Table(
    "portico_responses",
    _metadata,
    Column("id", String(80), primary_key=True),
    Column("owner", String(80), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("body", JSON, nullable=False),
    Column("input_items", JSON, nullable=False),
    Column("conversation", JSON, nullable=False),
)


def _record(row: Row[Any]) -> StoredResponse:
    m = row._mapping
    return StoredResponse(
        id=m["id"],
        owner=m["owner"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        body=dict(m["body"]),
        input_items=list(m["input_items"]),
        conversation=list(m["conversation"]),
    )


class SqlResponseStore:
    """One row per response; one insert per save (a single statement: never half-written)."""

    def __init__(self, settings: StorageSettings, *, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self._owns_engine = engine is None  # a shared engine is disposed by its owner
        self.engine = engine or create_engine(settings)

    async def start(self) -> None:
        await migrate(self.engine, schema=self.settings.schema_name)

    async def close(self) -> None:
        if self._owns_engine:
            await self.engine.dispose()

    async def save(self, record: StoredResponse) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(responses).values(
                    id=record.id,
                    owner=record.owner,
                    created_at=record.created_at,
                    expires_at=record.expires_at,
                    body=record.body,
                    input_items=record.input_items,
                    conversation=record.conversation,
                )
            )

    def _mine(self, owner: str, response_id: str) -> Any:
        return and_(responses.c.id == response_id, responses.c.owner == owner, responses.c.expires_at > time.time())

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(responses).where(self._mine(owner, response_id)))).first()
        return _record(row) if row is not None else None

    async def delete(self, owner: str, response_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(responses).where(self._mine(owner, response_id)))
        return bool(result.rowcount)

    async def purge_expired(self, now: float | None = None) -> int:
        cutoff = time.time() if now is None else now
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(responses).where(responses.c.expires_at <= cutoff))
        return int(result.rowcount or 0)
