"""Fixtures for the files tests: a FileService on SQLite and on PostgreSQL (unique schema per run)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from portico.files import FileCatalog, FileService, LocalBlobStore
from portico.storage.migrate import migrate
from portico.storage.settings import StorageSettings
from portico.storage.sql import create_engine

PG_URL = os.environ.get("PORTICO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def files_pg_schema() -> Iterator[str]:
    schema = f"portico_files_{uuid.uuid4().hex[:8]}"
    yield schema

    async def drop() -> None:
        engine = create_async_engine(PG_URL)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await engine.dispose()

    asyncio.run(drop())


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgres"])
async def service(
    request: pytest.FixtureRequest, tmp_path: Path, files_pg_schema: str, clock: Clock
) -> AsyncIterator[FileService]:
    if request.param == "sqlite":
        settings = StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path}/f.db")
    else:
        settings = StorageSettings(url=PG_URL, schema_name=files_pg_schema)
    engine = create_engine(settings)
    await migrate(engine, schema=settings.schema_name)
    try:
        yield FileService(FileCatalog(engine), LocalBlobStore(tmp_path / "blobs"), max_bytes=1000, clock=clock)
    finally:
        await engine.dispose()
