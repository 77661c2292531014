"""The ResponseStore contract, on every backend: memory, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from portico.responses.sql import SqlResponseStore
from portico.responses.store import MemoryResponseStore, ResponseStore, StoredResponse
from portico.storage.settings import StorageSettings

PG_URL = os.environ.get("PORTICO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _record(owner: str = "key:a", *, ttl: float = 3600.0, rid: str | None = None) -> StoredResponse:
    now = time.time()
    return StoredResponse(
        id=rid or "resp_" + uuid.uuid4().hex,
        owner=owner,
        created_at=now,
        expires_at=now + ttl,
        body={"id": "x", "output": [{"type": "message", "content": [{"type": "output_text", "text": "é ✓"}]}]},
        input_items=[{"id": "msg_1", "type": "message", "role": "user", "content": []}],
        conversation=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
    )


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[ResponseStore]:
    schema = f"portico_resp_{uuid.uuid4().hex[:8]}"
    s: ResponseStore
    if request.param == "memory":
        s = MemoryResponseStore(max_items=100)
    elif request.param == "sqlite":
        s = SqlResponseStore(StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path}/r.db"))
    else:
        s = SqlResponseStore(StorageSettings(url=PG_URL, schema_name=schema))
    await s.start()
    try:
        yield s
    finally:
        await s.close()
        if request.param == "postgres":
            engine = create_async_engine(PG_URL)
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()


async def test_round_trip_is_per_owner(store: ResponseStore) -> None:
    rec = _record()
    await store.save(rec)
    got = await store.get("key:a", rec.id)
    assert got is not None and got.body == rec.body and got.conversation == rec.conversation
    assert got.input_items == rec.input_items
    assert await store.get("key:b", rec.id) is None  # another key's response does not exist for it
    assert await store.delete("key:b", rec.id) is False
    assert await store.delete("key:a", rec.id) is True
    assert await store.get("key:a", rec.id) is None
    assert await store.delete("key:a", rec.id) is False


async def test_expired_responses_are_gone(store: ResponseStore) -> None:
    old, fresh = _record(ttl=-1), _record()
    await store.save(old)
    await store.save(fresh)
    assert await store.get("key:a", old.id) is None
    assert await store.purge_expired() <= 1
    assert await store.get("key:a", fresh.id) is not None


async def test_memory_store_is_bounded() -> None:
    s = MemoryResponseStore(max_items=3)
    recs = [_record() for _ in range(5)]
    for r in recs:
        await s.save(r)
    assert [await s.get("key:a", r.id) is not None for r in recs] == [False, False, True, True, True]
