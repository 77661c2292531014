"""kill -9 mid-batch, restart (or a second replica takes over): no custom_id lost, none twice.

Real `portico serve` processes against SQLite and PostgreSQL; the fake upstream answers
slowly enough that the batch is still running when the process is killed.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from portico.testing import FakeUpstream
from portico.testing.process import GatewayProcess as Gateway

from .conftest import PG_URL, chat_line, wait_done, write_jsonl

N = 300


@pytest.fixture
def slow_upstream() -> Iterator[FakeUpstream]:
    up = FakeUpstream(reply="ok", delay=0.02).start_in_thread()
    try:
        yield up
    finally:
        up.stop_thread()


def config(tmp: Path, upstream: FakeUpstream, storage: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "models": [
            {
                "name": "gpt-4o-mini",
                "provider": "openai",
                "base_url": upstream.base_url,
                "api_key": "sk-up",
                "price": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
            }
        ],
        "embeddings": {"enabled": False},
        "server": {"log_level": "warning"},
        "storage": {**storage, "wal_dir": str(tmp / f"wal-{name}")},
        "files": {"dir": str(tmp / "files")},
        "batch": {"lease_seconds": 2, "poll_seconds": 0.2, "concurrency_per_batch": 4, "flush_ms": 20},
    }


def wait_progress(client: OpenAI, batch_id: str, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        b = client.batches.retrieve(batch_id)
        done = b.request_counts.completed if b.request_counts else 0
        if done >= at_least:
            return done
        time.sleep(0.05)  # polling the public API for progress
    raise AssertionError(f"batch {batch_id} made no progress")


def check_output(client: OpenAI, batch_id: str) -> None:
    final = wait_done(client, batch_id, timeout=120)
    assert final.status == "completed", final
    assert final.request_counts is not None
    assert (final.request_counts.total, final.request_counts.completed, final.request_counts.failed) == (N, N, 0)
    assert final.output_file_id is not None
    ids = Counter(json.loads(x)["custom_id"] for x in client.files.content(final.output_file_id).text.splitlines())
    assert set(ids) == {f"req-{i}" for i in range(N)}, "lines lost"
    assert max(ids.values()) == 1, "lines duplicated"


def run_kill_and_resume(tmp: Path, upstream: FakeUpstream, storage: dict[str, Any]) -> None:
    first = Gateway(tmp, config(tmp, upstream, storage, "a"), "a").start()
    try:
        client = OpenAI(base_url=first.url + "/v1", api_key="anything", max_retries=0)
        path = write_jsonl(tmp / "in.jsonl", [chat_line(i) for i in range(N)])
        file = client.files.create(file=path.open("rb"), purpose="batch")
        batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        before = wait_progress(client, batch.id, 40)
        first.kill9()
    finally:
        first.stop()
    assert before < N
    second = Gateway(tmp, config(tmp, upstream, storage, "b"), "b").start()
    try:
        client = OpenAI(base_url=second.url + "/v1", api_key="anything", max_retries=0)
        check_output(client, batch.id)
    finally:
        second.stop()


def test_kill9_and_restart_resumes_on_sqlite(tmp_path: Path, slow_upstream: FakeUpstream) -> None:
    run_kill_and_resume(tmp_path, slow_upstream, {"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/p.db"})


def test_kill9_and_restart_resumes_on_postgres(tmp_path: Path, slow_upstream: FakeUpstream, pg_schema: str) -> None:
    run_kill_and_resume(tmp_path, slow_upstream, {"enabled": True, "url": PG_URL, "schema_name": pg_schema})


def test_second_replica_takes_over_a_dead_replicas_batch(
    tmp_path: Path, slow_upstream: FakeUpstream, pg_schema: str
) -> None:
    storage = {"enabled": True, "url": PG_URL, "schema_name": pg_schema}
    a = Gateway(tmp_path, config(tmp_path, slow_upstream, storage, "a"), "a").start()
    b = Gateway(tmp_path, config(tmp_path, slow_upstream, storage, "b"), "b").start()
    try:
        client_a = OpenAI(base_url=a.url + "/v1", api_key="anything", max_retries=0)
        client_b = OpenAI(base_url=b.url + "/v1", api_key="anything", max_retries=0)
        path = write_jsonl(tmp_path / "in.jsonl", [chat_line(i) for i in range(N)])
        file = client_a.files.create(file=path.open("rb"), purpose="batch")
        batch = client_a.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        wait_progress(client_a, batch.id, 40)
        holder = lease_holder(storage, batch.id)
        victim, survivor = (a, client_b) if f"-{a.proc.pid}-" in holder else (b, client_a)  # type: ignore[union-attr]
        victim.kill9()
        check_output(survivor, batch.id)
        assert victim.proc is not None and f"-{victim.proc.pid}-" not in lease_holder(storage, batch.id)
    finally:
        a.stop()
        b.stop()


def lease_holder(storage: dict[str, Any], batch_id: str) -> str:
    import asyncio

    from sqlalchemy import select

    from portico.batch.tables import batches
    from portico.storage.settings import StorageSettings
    from portico.storage.sql import create_engine

    async def read() -> str:
        engine = create_engine(StorageSettings(url=storage["url"], schema_name=storage.get("schema_name")))
        try:
            async with engine.connect() as conn:
                row = (await conn.execute(select(batches.c.lease_owner).where(batches.c.id == batch_id))).first()
            return str(row[0] or "") if row else ""
        finally:
            await engine.dispose()

    return asyncio.run(read())
