"""The Store contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
import uuid

from portico.storage.records import KeySpec, RequestRecord, TeamSpec
from portico.storage.sql import SqlStore


def _hash() -> str:
    return uuid.uuid4().hex * 2


async def test_start_is_idempotent(store: SqlStore) -> None:
    await store.start()
    await store.start()


async def test_keys_round_trip(store: SqlStore) -> None:
    team = await store.create_team(TeamSpec(name="research", rpm=100, budget_usd=50, budget_period="day"))
    h = _hash()
    spec = KeySpec(
        name="ci",
        owner="ana",
        team_id=team.id,
        allowed_models=["gpt-4o", "local*"],
        rpm=10,
        tpm=1000,
        max_concurrency=2,
        budget_usd=5.5,
        budget_period="total",
        metadata={"env": "ci"},
    )
    key = await store.create_key(spec, secret_hash=h, hint="sk-pt-abcd…")
    assert key.id.startswith("key_") and key.active()
    assert (await store.get_key(key.id)) == key
    assert (await store.find_key(h)) == key
    assert await store.find_key(_hash()) is None
    assert key.allowed_models == ("gpt-4o", "local*") and key.metadata == {"env": "ci"}
    assert (key.rpm, key.tpm, key.max_concurrency, key.budget_usd, key.budget_period) == (10, 1000, 2, 5.5, "total")
    assert "secret_hash" not in key.public()
    assert (await store.get_team(team.id)) == team
    assert team.id in [t.id for t in await store.list_teams()]
    assert [k.id for k in await store.list_keys(team_id=team.id)] == [key.id]


async def test_revoke_and_rotate(store: SqlStore) -> None:
    key = await store.create_key(KeySpec(name="r"), secret_hash=_hash(), hint="h")
    new_hash = _hash()
    rotated = await store.rotate_key(key.id, secret_hash=new_hash, hint="h2")
    assert rotated is not None and rotated.id == key.id and rotated.rotated_at is not None
    assert await store.find_key(key.secret_hash) is None
    assert (await store.find_key(new_hash)) == rotated
    revoked = await store.revoke_key(key.id)
    assert revoked is not None and revoked.revoked_at is not None and not revoked.active()
    assert await store.rotate_key(key.id, secret_hash=_hash(), hint="h3") is None
    assert key.id not in [k.id for k in await store.list_keys(include_revoked=False)]
    assert await store.revoke_key("key_missing") is None


async def test_expiry_makes_a_key_inactive(store: SqlStore) -> None:
    key = await store.create_key(KeySpec(expires_at=time.time() - 1), secret_hash=_hash(), hint="h")
    assert not key.active()


def _rec(key: str, team: str | None, model: str, cost: float, ts: float, **kw: object) -> RequestRecord:
    return RequestRecord(
        request_id="req-" + uuid.uuid4().hex,
        ts=ts,
        key_id=key,
        team_id=team,
        model_requested=model,
        model=model,
        deployment=model + "#0",
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=cost,
        **kw,  # type: ignore[arg-type]
    )


async def test_records_are_idempotent_and_reported_by_group(store: SqlStore) -> None:
    key, team = "key_" + uuid.uuid4().hex[:12], "team_" + uuid.uuid4().hex[:8]
    day1, day2 = 1_790_000_000.0, 1_790_000_000.0 + 86400
    recs = [
        _rec(key, team, "m-a", 0.25, day1),
        _rec(key, team, "m-a", 0.5, day2, cache_status="exact"),
        _rec(key, team, "m-b", 1.0, day2, findings=[{"guard": "pii", "action": "redact", "detail": {"n": 2}}]),
        _rec(key, team, "m-b", 0.0, day2, status=401, error_code="invalid_api_key", billable=False),
    ]
    await store.write_records(recs)
    await store.write_records(recs[:2])  # a journal replay writes some twice
    by_model = {r.group: r for r in await store.spend("model", key_id=key)}
    assert by_model["m-a"].requests == 2 and abs(by_model["m-a"].cost_usd - 0.75) < 1e-9
    assert by_model["m-b"].requests == 1 and by_model["m-b"].prompt_tokens == 10
    days = await store.spend("day", key_id=key)
    assert [d.group for d in days] == ["2026-09-21", "2026-09-22"]
    assert [r.requests for r in await store.spend("team", team_id=team)] == [3]
    assert abs(await store.spent("key", key, day2) - 1.5) < 1e-9
    assert abs(await store.spent("team", team, 0) - 1.75) < 1e-9
    rows = await store.audit(key_id=key, limit=10)
    assert len(rows) == 4
    row = {r["request_id"]: r for r in rows}[recs[2].request_id]
    assert row["findings"] == [{"guard": "pii", "action": "redact", "detail": {"n": 2}}]
    assert row["prompt_text"] is None and row["model_served"] == "m-b"
    refused = (await store.audit(request_id=recs[3].request_id))[0]
    assert refused["status"] == 401 and refused["error_code"] == "invalid_api_key"
