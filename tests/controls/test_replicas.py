"""Three `portico serve` replicas on one Redis and one PostgreSQL: limits and budgets hold
exactly across them, and a kill -9 loses no audit or ledger row of an answered request."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portico.storage.recorder import Recorder
from portico.storage.sql import SqlStore
from portico.testing import FakeUpstream

from .cluster import Cluster, blast, ledger, serve_cmd_from_env
from .conftest import PG_URL, REDIS_URL


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    up = FakeUpstream(reply="Paris is the capital of France.").start_in_thread()
    try:
        yield up
    finally:
        up.stop_thread()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Cluster]:
    """Started once for the module (start-up is the slow part); the kill test runs last."""
    c = Cluster(
        tmp_path_factory.mktemp("replicas"),
        upstream.base_url,
        PG_URL,
        REDIS_URL,
        serve_cmd=serve_cmd_from_env(os.environ.get("PORTICO_TEST_SERVE_CMD")),
    )
    asyncio.run(c.prepare())
    try:
        c.start()
        yield c
    finally:
        c.stop()
        asyncio.run(c.drop_schema())


async def ledger_rows(cluster: Cluster, key_id: str, expected: int, timeout: float = 15.0) -> None:
    """Wait until the replicas' batch writers stored ``expected`` ledger rows for the key."""
    store = SqlStore(cluster.storage())
    await store.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            rows = await store.spend("key", key_id=key_id)
            if sum(r.requests for r in rows) >= expected or time.monotonic() > deadline:
                assert sum(r.requests for r in rows) == expected
                return
            await asyncio.sleep(0.05)  # condition poll: another process's writer, nothing to await
    finally:
        await store.close()


async def test_three_replicas_admit_exactly_rpm_and_never_overspend(cluster: Cluster) -> None:
    urls = [cluster.url(i) for i in range(3)]
    probe = await blast(urls, "sk-pt-not-a-key", 3, 3)
    assert [o.status for o in probe] == [401] * 3, "portico serve must compose the controls (assembly.controls_feature)"
    rpm_key, rpm_secret = await cluster.create_key(name="rpm", rpm=20)
    outcomes = await blast(urls, rpm_secret, 120, 24)
    statuses = [o.status for o in outcomes]
    assert statuses.count(200) == 20, statuses
    assert statuses.count(429) == 100
    # reservation per request = (9 prompt tokens estimated + 20 max) * $1000/MTok = $0.029;
    # real cost = (10 + 6) * $1000/MTok = $0.016; budget $0.2.
    budget_key, budget_secret = await cluster.create_key(name="budget", budget_usd=0.2, budget_period="total")
    outcomes = await blast(urls, budget_secret, 90, 30)
    admitted = sum(o.status == 200 for o in outcomes)
    refused = [o for o in outcomes if o.status == 429]
    assert admitted >= 6 and admitted + len(refused) == 90
    await ledger_rows(cluster, budget_key, admitted)
    await ledger_rows(cluster, rpm_key, 20)
    spend, _ = await ledger(cluster, budget_key)
    assert 0 < spend <= 0.2
    spend_rpm, _ = await ledger(cluster, rpm_key)
    assert spend_rpm == pytest.approx(20 * 0.016, rel=0.01)


async def test_kill_9_under_load_loses_no_row_of_an_answered_request(cluster: Cluster) -> None:
    _, secret = await cluster.create_key(name="load")
    enough = asyncio.Event()

    def answered(count: int) -> None:
        if count >= 60:
            enough.set()

    load = asyncio.ensure_future(blast([cluster.url(0)], secret, 400, 16, prefix="kill", answered=answered))
    await asyncio.wait([load, asyncio.ensure_future(enough.wait())], return_when=asyncio.FIRST_COMPLETED)
    cluster.kill9(0)  # mid-load: requests in flight, records in the journal not yet in the database
    outcomes = await load
    answered = {o.request_id for o in outcomes if o.status == 200}
    assert 60 <= len(answered) < 400
    store = SqlStore(cluster.storage(0))
    await store.start()
    replayed = await Recorder(store, cluster.storage(0)).replay(Path(cluster.storage(0).wal_dir))
    await store.close()
    _, ids = await ledger(cluster, "")
    assert answered <= ids, (len(answered - ids), replayed)
