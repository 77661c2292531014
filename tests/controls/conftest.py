"""Fixtures for the controls tests: each Store and Limiter backend, real SQLite/PostgreSQL/Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from portico.limits.limiter import Limiter
from portico.limits.memory import MemoryLimiter
from portico.limits.redis import RedisLimiter
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore

PG_URL = os.environ.get("PORTICO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PORTICO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RUN = uuid.uuid4().hex[:8]


class Clock:
    """A settable clock, injected into limiters (no sleeping through windows)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def pg_schema() -> str:
    return f"portico_test_{RUN}"


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schema(pg_schema: str) -> object:
    yield None
    import asyncio

    async def drop() -> None:
        engine = create_async_engine(PG_URL)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{pg_schema}" CASCADE'))
        finally:
            await engine.dispose()

    asyncio.run(drop())


def storage_settings(backend: str, tmp_path: object, pg_schema: str, **kw: object) -> StorageSettings:
    if backend == "sqlite":
        return StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path}/portico.db", wal_dir=f"{tmp_path}/wal", **kw)  # type: ignore[arg-type]
    return StorageSettings(url=PG_URL, schema_name=pg_schema, wal_dir=f"{tmp_path}/wal", **kw)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: object, pg_schema: str) -> AsyncIterator[SqlStore]:
    s = SqlStore(storage_settings(request.param, tmp_path, pg_schema))
    await s.start()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def spent_db() -> dict[str, float]:
    """What the ledger says each scope spent (the limiters' spend loader reads it)."""
    return {}


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest, clock: Clock, spent_db: dict[str, float]) -> AsyncIterator[Limiter]:
    async def loader(scope: str, since: float) -> float:
        return spent_db.get(scope, 0.0)

    if request.param == "memory":
        lim: Limiter = MemoryLimiter(spend_loader=loader, clock=clock)
        yield lim
        await lim.close()
        return
    client = Redis.from_url(REDIS_URL)
    prefix = f"pt-test:{RUN}:{uuid.uuid4().hex[:8]}:"
    lim = RedisLimiter(client, prefix=prefix, spend_loader=loader, clock=clock)
    try:
        yield lim
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await lim.close()


def free_tcp_port() -> int:
    """A loopback port nobody listens on (connection refused at once)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
