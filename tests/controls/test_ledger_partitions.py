"""The request table at scale: rollup-backed spend reports, partitions, retention, the 0001 -> 0002 migration."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from portico.storage.migrate import migrate
from portico.storage.records import RequestRecord
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore

from .conftest import PG_URL, storage_settings

DAY = 86400.0
NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC).timestamp()


@pytest.fixture(params=["sqlite", "postgres"])
async def own_store(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[SqlStore]:
    """A store in its own PostgreSQL schema (these tests create and drop partitions)."""
    schema = "portico_part_" + uuid.uuid4().hex[:10]
    s = SqlStore(storage_settings(request.param, tmp_path, schema, retention_days=30, partition="day"))
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


def _rec(ts: float, key: str, model: str, cost: float, billable: bool = True) -> RequestRecord:
    return RequestRecord(
        request_id="req-" + uuid.uuid4().hex,
        ts=ts,
        key_id=key,
        team_id="team_a" if key.endswith("1") else None,
        model=model,
        model_requested=model,
        prompt_tokens=3,
        completion_tokens=2,
        cost_usd=cost,
        billable=billable,
    )


async def test_spend_over_any_window_equals_the_sum_of_its_records(own_store: SqlStore) -> None:
    rng = random.Random(7)
    recs = [
        _rec(
            NOW - rng.uniform(0, 6 * DAY),
            f"key_{rng.randint(1, 3)}",
            rng.choice(["a", "b"]),
            rng.random(),
            rng.random() > 0.1,
        )
        for _ in range(300)
    ]
    for i in range(0, len(recs), 50):
        await own_store.write_records(recs[i : i + 50])
    await own_store.write_records(recs[:40])  # a replay adds nothing
    windows = [
        (None, None),
        (NOW - 3.3 * DAY, None),
        (NOW - 5.5 * DAY, NOW - 1.2 * DAY),
        (NOW - 0.7 * DAY, NOW - 0.2 * DAY),
    ]
    windows += [
        (NOW - 2.9 * DAY, NOW - 2.1 * DAY),
        (NOW - 4 * DAY - NOW % DAY, NOW - NOW % DAY),
    ]  # two partial days; whole days
    for since, until in windows:
        inside = [
            r for r in recs if r.billable and (since is None or r.ts >= since) and (until is None or r.ts < until)
        ]
        for group_by, attr in (("key", "key_id"), ("team", "team_id"), ("model", "model")):
            got = {
                r.group: (r.requests, round(r.cost_usd, 9))
                for r in await own_store.spend(group_by, since=since, until=until)
            }  # type: ignore[arg-type]
            want: dict[str, list[float]] = {}
            for r in inside:
                acc = want.setdefault(getattr(r, attr) or "-", [0, 0.0])
                acc[0] += 1
                acc[1] += r.cost_usd
            assert got == {g: (int(v[0]), round(v[1], 9)) for g, v in want.items()}, (since, until, group_by)
        days = await own_store.spend("day", since=since, until=until, key_id="key_1")
        by_day: dict[str, int] = {}
        for r in inside:
            if r.key_id == "key_1":
                d = datetime.fromtimestamp(r.ts, UTC).strftime("%Y-%m-%d")
                by_day[d] = by_day.get(d, 0) + 1
        assert [(d.group, d.requests) for d in days] == sorted(by_day.items())
    spent = await own_store.spent("team", "team_a", NOW - 2.5 * DAY)
    want_team = sum(r.cost_usd for r in recs if r.billable and r.team_id == "team_a" and r.ts >= NOW - 2.5 * DAY)
    assert abs(spent - want_team) < 1e-9


async def test_retention_is_a_maximum_and_partitions_follow_the_clock(own_store: SqlStore) -> None:
    old = [_rec(NOW - 40 * DAY, "key_1", "a", 1.0), _rec(NOW - 31 * DAY, "key_2", "a", 1.0)]
    young = [_rec(NOW - 29 * DAY, "key_1", "a", 1.0), _rec(NOW - 60, "key_2", "a", 1.0)]
    ahead = _rec(NOW + 5 * DAY, "key_3", "a", 1.0)  # beyond the created partitions: the default one keeps it
    await own_store.write_records([*old, *young, ahead])
    report = await own_store.maintain(NOW)
    assert report["deleted"] >= 2
    left = {r["request_id"] for r in await own_store.audit(limit=100)}
    assert left == {r.request_id for r in [*young, ahead]}
    assert [r.requests for r in await own_store.spend("key", key_id="key_1")] == [2]  # the rollup keeps sums
    if own_store.engine.dialect.name != "postgresql":
        return
    async with own_store.engine.connect() as conn:
        parts = set(
            (
                await conn.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "WHERE i.inhparent = to_regclass('portico_requests')"
                    )
                )
            ).scalars()
        )
    assert {"portico_requests_p20261207", "portico_requests_p20261210", "portico_requests_default"} <= parts
    # Days later the clock reaches the stray row's day: its partition is created and the row moves in.
    later = await own_store.maintain(NOW + 5 * DAY)
    assert "portico_requests_p20261212" in later["created"]
    async with own_store.engine.connect() as conn:
        moved = (await conn.execute(text("SELECT count(*) FROM portico_requests_p20261212"))).scalar_one()
        stray = (await conn.execute(text("SELECT count(*) FROM portico_requests_default"))).scalar_one()
    assert (moved, stray) == (1, 0)
    # 36 days on, the partitions of 2026-12-07 .. 2026-12-10 are past the 30-day limit: dropped whole.
    gone = await own_store.maintain(NOW + 36 * DAY)
    assert "portico_requests_p20261207" in gone["dropped"]
    assert [r["request_id"] for r in await own_store.audit(limit=100)] == []


async def test_migrating_0004_data_keeps_every_record_and_builds_the_rollup(tmp_path: object) -> None:
    settings = StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path}/old.db", wal_dir=f"{tmp_path}/wal")
    store = SqlStore(settings)
    await migrate(store.engine, revision="0004")
    async with store.engine.begin() as conn:
        for i, billable in enumerate([True, True, False]):
            values = (
                f"'r{i}', 'req-{i}', {NOW + i}, 'key_1', NULL, 'm', 'm', 'm#0', 'direct', 200, NULL, 5.0, 3, 2, 0.5, "
                "'miss', 0, '[]', NULL, NULL"
            )
            await conn.execute(
                text(
                    "INSERT INTO portico_audit (record_id, request_id, ts, key_id, team_id, model_requested, "
                    "model_served, deployment, route_reason, status, error_code, latency_ms, prompt_tokens, "
                    "completion_tokens, cost_usd, cache_status, stream, findings, prompt_text, response_text) "
                    f"VALUES ({values})"
                )
            )
            if billable:
                await conn.execute(
                    text(
                        "INSERT INTO portico_ledger (record_id, request_id, ts, day, key_id, team_id, model, "
                        "deployment, prompt_tokens, completion_tokens, cost_usd, cache_hit, status) "
                        f"VALUES ('r{i}', 'req-{i}', {NOW + i}, '2026-12-07', 'key_1', NULL, 'm', 'm#0', 3, 2, 0.5, "
                        "0, 200)"
                    )
                )
    await store.start()
    try:
        assert await store.count_records() == (2, 3)
        assert [(r.group, r.requests, r.cost_usd) for r in await store.spend("day")] == [("2026-12-07", 2, 1.0)]
        row = (await store.audit(request_id="req-1"))[0]
        assert row["findings"] == [] and row["model_served"] == "m" and row["overhead_ms"] == 5.0
    finally:
        await store.close()
