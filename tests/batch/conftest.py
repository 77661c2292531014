"""Batch tests: a gateway with storage on (SQLite in tmp, or a unique PostgreSQL schema) and a fake upstream."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from portico.server import create_app
from portico.testing import FakeUpstream, make_settings, serve_in_thread

PG_URL = os.environ.get("PORTICO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def gateway_settings(tmp: Path, upstream_url: str, **sections: Any) -> Any:
    storage = sections.pop(
        "storage", {"enabled": True, "url": f"sqlite+aiosqlite:///{tmp}/p.db", "wal_dir": f"{tmp}/wal"}
    )
    return make_settings(
        [
            {
                "name": "gpt-4o-mini",
                "provider": "openai",
                "base_url": upstream_url,
                "api_key": "sk-up",
                "price": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
            }
        ],
        storage=storage,
        files={"dir": str(tmp / "files")},
        batch={"poll_seconds": 0.2, "flush_ms": 20, **sections.pop("batch", {})},
        **sections,
    )


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def chat_line(i: int, model: str = "gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    return {
        "custom_id": f"req-{i}",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": model, "messages": [{"role": "user", "content": f"Question {i}"}], "max_tokens": 16},
        **extra,
    }


def wait_done(client: OpenAI, batch_id: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    b = client.batches.retrieve(batch_id)
    while b.status not in ("completed", "failed", "expired", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.1)  # polling the public API, as a client does
        b = client.batches.retrieve(batch_id)
    return b


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    up = FakeUpstream(reply="Batch answer.").start_in_thread()
    try:
        yield up
    finally:
        up.stop_thread()


@pytest.fixture
def served(tmp_path: Path, upstream: FakeUpstream) -> Iterator[tuple[OpenAI, Path]]:
    with serve_in_thread(create_app(gateway_settings(tmp_path, upstream.base_url))) as url:
        yield OpenAI(base_url=url + "/v1", api_key="anything", max_retries=0), tmp_path


@pytest.fixture(scope="session")
def _pg_schemas() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def drop() -> None:
        engine = create_async_engine(PG_URL)
        try:
            async with engine.begin() as conn:
                for schema in made:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await engine.dispose()

    if made:
        asyncio.run(drop())


@pytest.fixture
def pg_schema(_pg_schemas: list[str]) -> str:
    schema = f"portico_batch_{uuid.uuid4().hex[:10]}"
    _pg_schemas.append(schema)
    return schema
