"""Redis unreachable (fail-open / fail-closed, logged and counted), journal segments, commit mode."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from portico.auth.controls import build_limiter
from portico.limits.limiter import ScopeLimits
from portico.limits.redis import LimiterUnavailable, RedisLimiter
from portico.limits.settings import LimitsSettings
from portico.storage.journal import Journal, orphan_segments
from portico.storage.recorder import Recorder
from portico.storage.records import RequestRecord
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore

from .conftest import free_tcp_port


@pytest.mark.parametrize("fail_open", [True, False])
async def test_unreachable_redis_is_logged_counted_and_obeys_the_flag(
    fail_open: bool, caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client import Counter

    registry = CollectorRegistry()
    counter = Counter("portico_limiter_unavailable", "test", ["mode"], registry=registry)
    settings = LimitsSettings(backend="redis", redis_url=f"redis://127.0.0.1:{free_tcp_port()}/0", fail_open=fail_open)
    limiter = build_limiter(settings, None, unavailable=counter)
    assert isinstance(limiter, RedisLimiter)
    scope = ScopeLimits("key:x", rpm=1)
    with caplog.at_level(logging.WARNING, logger="portico.limits.redis"):
        if fail_open:
            for _ in range(3):  # no limit applies while Redis is down
                adm = await limiter.admit("t", [scope], tokens=1, cost_usd=0)
                assert adm.degraded
                await limiter.settle(adm, tokens=1, cost_usd=0)
        else:
            with pytest.raises(LimiterUnavailable) as err:
                await limiter.admit("t", [scope], tokens=1, cost_usd=0)
            assert err.value.status == 503 and err.value.code == "limiter_unavailable"
    mode = "fail_open" if fail_open else "fail_closed"
    assert registry.get_sample_value("portico_limiter_unavailable_total", {"mode": mode}) == (3 if fail_open else 1)
    assert "unreachable" in caplog.text and mode in caplog.text
    await limiter.close()


async def test_redis_limiter_recovers_when_redis_answers_again() -> None:
    from .conftest import REDIS_URL

    client = Redis.from_url(REDIS_URL)
    prefix = f"pt-test-recover-{time.time()}:"
    limiter = RedisLimiter(client, prefix=prefix)
    adm = await limiter.admit("t1", [ScopeLimits("key:r", rpm=5)], tokens=1, cost_usd=0)
    assert not adm.degraded and adm.quota.remaining_requests == 4
    await client.delete(*[k async for k in client.scan_iter(match=prefix + "*")])
    await limiter.close()


async def test_journal_rotates_segments_and_deletes_committed_ones(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=200)
    journal.open()
    segments = [await journal.append(b'{"n": %d, "pad": "%s"}' % (i, b"x" * 40)) for i in range(12)]
    assert len(set(segments)) >= 3
    assert len(list(tmp_path.glob("*.wal.jsonl"))) == len(set(segments)) + 1  # + the current one
    for seg in segments:
        journal.committed(seg)
    assert len(list(tmp_path.glob("*.wal.jsonl"))) == 1  # only the current segment is left
    assert list(orphan_segments(tmp_path)) == []  # held by this live journal
    journal.close(all_committed=True)
    assert list(tmp_path.glob("*.wal.jsonl")) == []


async def test_commit_durability_waits_for_the_database(tmp_path: Path) -> None:
    settings = StorageSettings(
        url=f"sqlite+aiosqlite:///{tmp_path}/c.db",
        durability="commit",
        flush_interval_ms=60_000,
        wal_dir=str(tmp_path / "w"),
    )
    store = SqlStore(settings)
    await store.start()
    recorder = Recorder(store, settings)
    await recorder.start()
    await recorder.record(RequestRecord(request_id="req-commit", ts=time.time(), model="m"))
    assert (await store.audit(request_id="req-commit"))[0]["model_served"] == "m"  # no flush interval waited
    assert not (tmp_path / "w").exists() or not list((tmp_path / "w").iterdir())
    await recorder.stop()
    await store.close()
