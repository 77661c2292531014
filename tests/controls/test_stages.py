"""Auth, admission and accounting stages together: 401/403/429, headers, budgets, streams, audit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from portico.auth.controls import Controls
from portico.auth.resolver import KeyResolver
from portico.errors import AuthenticationFailed, BudgetExceeded, PermissionDenied, PorticoError, RateLimited
from portico.limits.settings import LimitsSettings
from portico.pipeline import Caller
from portico.storage.records import KeySpec, TeamSpec
from portico.storage.settings import StorageSettings

from .helpers import Upstream, drain, make_ctx, pipeline

MASTER = "sk-master-" + "x" * 24


class Model:
    def __init__(self, name: str, inp: float, out: float) -> None:
        from portico.config import Price

        self.name, self.upstream_model = name, name
        self.price = Price(input_per_mtok=inp, output_per_mtok=out)
        self.model_fields_set = {"price"}


@pytest.fixture
async def controls(tmp_path: Path) -> AsyncIterator[Controls]:
    c = Controls(
        storage=StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path}/p.db", wal_dir=str(tmp_path / "wal")),
        limits=LimitsSettings(),
        master_key=SecretStr(MASTER),
        models=[Model("gpt-4o", 2.5, 10.0), Model("local", 0, 0)],
    )
    await c.start()
    try:
        yield c
    finally:
        await c.stop()


async def run(controls: Controls, ctx: object, upstream: Upstream | None = None) -> object:
    return await pipeline(controls, upstream or Upstream())(ctx)  # type: ignore[arg-type]


async def test_auth_errors(controls: Controls) -> None:
    with pytest.raises(AuthenticationFailed) as err:
        await run(controls, make_ctx(None))
    assert err.value.status == 401
    with pytest.raises(AuthenticationFailed):
        await run(controls, make_ctx("sk-pt-unknown"))
    key, secret = await controls.keys.create(KeySpec(name="a", allowed_models=["local"]))
    ctx = make_ctx(secret, "local")
    await run(controls, ctx)
    assert ctx.caller.key_id == key.id and not ctx.caller.is_master
    await run(controls, make_ctx(secret, "local", header="x-api-key"))  # Anthropic-style header
    with pytest.raises(PermissionDenied) as denied:
        await run(controls, make_ctx(secret, "gpt-4o"))
    assert denied.value.status == 403
    await controls.keys.revoke(key.id)
    with pytest.raises(AuthenticationFailed) as revoked:
        await run(controls, make_ctx(secret, "local"))
    assert revoked.value.code == "key_revoked"
    _, expiring = await controls.keys.create(KeySpec(expires_at=time.time() - 1))
    with pytest.raises(AuthenticationFailed) as expired:
        await run(controls, make_ctx(expiring, "local"))
    assert expired.value.code == "key_expired"
    master = make_ctx(MASTER, "gpt-4o")
    await run(controls, master)
    assert master.caller.is_master


async def test_team_model_list_applies_too(controls: Controls) -> None:
    team = await controls.store.create_team(TeamSpec(name="t", allowed_models=["local"]))
    _, secret = await controls.keys.create(KeySpec(team_id=team.id))
    await run(controls, make_ctx(secret, "local"))
    with pytest.raises(PermissionDenied):
        await run(controls, make_ctx(secret, "gpt-4o"))


async def test_open_dev_mode_accepts_anything(tmp_path: Path) -> None:
    c = Controls(
        storage=StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path}/d.db", wal_dir=str(tmp_path / "w")),
        limits=LimitsSettings(),
        master_key=None,
    )
    await c.start()
    try:
        for key in (None, "anything"):
            ctx = make_ctx(key, "local")
            await run(c, ctx)
            assert ctx.caller == Caller()
    finally:
        await c.stop()


async def test_key_cache_avoids_queries_and_revocation_reaches_other_replicas_within_ttl(
    controls: Controls,
) -> None:
    key, secret = await controls.keys.create(KeySpec())
    for _ in range(50):
        await run(controls, make_ctx(secret, "local"))
    assert controls.resolver.lookups == 1
    now = [0.0]
    other = KeyResolver(controls.store, ttl_s=5.0, clock=lambda: now[0])  # another replica's cache
    assert (await other.resolve(secret)) is not None
    await controls.keys.revoke(key.id)  # done on this replica: its own cache forgets at once
    with pytest.raises(AuthenticationFailed):
        await run(controls, make_ctx(secret, "local"))
    principal = await other.resolve(secret)
    assert principal is not None and principal.key.revoked_at is None  # stale within the TTL
    now[0] += 5.01
    principal = await other.resolve(secret)
    assert principal is not None and principal.key.revoked_at is not None


async def test_rate_limit_headers_on_success_and_refusal(controls: Controls) -> None:
    _, secret = await controls.keys.create(KeySpec(rpm=2, tpm=10_000))
    ctx = make_ctx(secret, "local")
    await run(controls, ctx)
    h = ctx.response_headers
    assert h["x-ratelimit-limit-requests"] == "2" and h["x-ratelimit-remaining-requests"] == "1"
    assert h["x-ratelimit-limit-tokens"] == "10000"
    assert int(h["x-ratelimit-remaining-tokens"]) < 10_000
    assert h["x-ratelimit-reset-requests"].endswith("s")
    await run(controls, make_ctx(secret, "local"))
    with pytest.raises(RateLimited) as err:
        await run(controls, make_ctx(secret, "local"))
    headers = err.value.response_headers()
    assert err.value.status == 429 and int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-remaining-requests"] == "0"


async def test_budget_under_concurrency_through_the_pipeline(controls: Controls) -> None:
    # gpt-4o: 2.5 / 10 per MTok. Reservation per request = (prompt estimate + 100 out) priced;
    # real usage 20 in + 10 out = 0.00015 USD.
    _, secret = await controls.keys.create(KeySpec(budget_usd=0.01, budget_period="day"))
    upstream = Upstream(20, 10)
    upstream.gate = asyncio.Event()
    pipe = pipeline(controls, upstream)

    async def one() -> int:
        try:
            await pipe(make_ctx(secret, "gpt-4o"))
            return 200
        except BudgetExceeded as exc:
            assert exc.status == 429 and exc.code == "budget_exceeded"
            return 429

    tasks = [asyncio.ensure_future(one()) for _ in range(40)]
    while upstream.calls + sum(t.done() for t in tasks) < 40:  # until each is admitted or refused
        await asyncio.sleep(0)
    admitted = upstream.calls
    upstream.gate.set()
    statuses = await asyncio.gather(*tasks)
    assert statuses.count(200) == admitted
    # each in-flight request holds its maximum cost: 0.01 / (~12 prompt + 100 out priced) -> 9
    assert 5 <= admitted < 40
    await controls.recorder.flush()
    spent = sum(r.cost_usd for r in await controls.store.spend("key"))
    assert spent <= 0.01


async def test_stream_cut_records_partial_usage_and_settles(controls: Controls) -> None:
    _key, secret = await controls.keys.create(KeySpec(tpm=5_000, max_concurrency=1))
    ctx = make_ctx(secret, "gpt-4o", stream=True, rid="req-cut-1")
    reply = await run(controls, ctx, Upstream(cut_after=3))
    text = await drain(reply, ctx)  # type: ignore[arg-type]
    assert text == "abcd" * 3
    # the concurrency slot came back: another request is admitted
    await run(controls, make_ctx(secret, "gpt-4o"))
    await controls.recorder.flush()
    rows = await controls.store.audit(request_id="req-cut-1")
    assert rows[0]["completion_tokens"] == 3 and rows[0]["status"] == 500 and rows[0]["stream"]
    assert rows[0]["cost_usd"] > 0


async def test_full_stream_is_recorded_before_it_ends(controls: Controls) -> None:
    _, secret = await controls.keys.create(KeySpec())
    ctx = make_ctx(secret, "gpt-4o", stream=True, rid="req-stream-ok")
    reply = await run(controls, ctx)
    seen = 0
    async for _ in reply:  # type: ignore[union-attr]
        seen += 1
    # the iterator is exhausted: the record was journaled before the server could send [DONE]
    assert controls.recorder.journal is not None and controls.recorder.journal.fsyncs >= 1
    await reply.close(ctx, None)  # type: ignore[union-attr]
    await controls.recorder.flush()
    row = (await controls.store.audit(request_id="req-stream-ok"))[0]
    assert (row["prompt_tokens"], row["completion_tokens"], row["status"]) == (20, 10, 200)


async def test_audit_rows_for_refusals_and_no_secrets_anywhere(
    controls: Controls, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key, secret = await controls.keys.create(KeySpec(rpm=1, allowed_models=["gpt-4o"]))
    rotated = await controls.keys.rotate(key.id)
    assert rotated is not None
    new_secret = rotated[1]
    errors: list[PorticoError] = []
    for s, model in ((new_secret, "gpt-4o"), (new_secret, "gpt-4o"), (new_secret, "local"), (secret, "gpt-4o")):
        try:
            await run(controls, make_ctx(s, model))
        except PorticoError as exc:
            errors.append(exc)
    assert [e.status for e in errors] == [429, 403, 401]
    await controls.recorder.flush()
    rows = await controls.store.audit(limit=100)
    assert sorted(r["status"] for r in rows) == [200, 401, 403, 429]
    assert {r["key_id"] for r in rows} == {key.id, None}
    blob = repr(rows) + caplog.text + "".join(repr(e.payload()) + repr(e.headers) for e in errors)
    blob += repr([k.public() for k in await controls.store.list_keys()])
    for s in (secret, new_secret, MASTER):
        assert s not in blob
    wal = Path(controls.storage_settings.wal_dir)
    assert all(secret not in p.read_text() for p in wal.glob("*"))


async def test_prompts_stored_only_when_enabled_and_redacted(tmp_path: Path) -> None:
    c = Controls(
        storage=StorageSettings(
            url=f"sqlite+aiosqlite:///{tmp_path}/p.db", wal_dir=str(tmp_path / "w"), store_prompts=True
        ),
        limits=LimitsSettings(),
        master_key=None,
    )
    await c.start()
    ctx = make_ctx(None, "local", rid="req-pii")
    ctx.request.messages[0].content = "mail me at ana@example.com, key sk-live-abcdefghijkl"
    await run(c, ctx)
    await c.stop()
    await c.store.start()
    row = (await c.store.audit(request_id="req-pii"))[0]
    assert row["prompt_text"] == "mail me at [EMAIL], key [SECRET]" and row["response_text"] == "hello"
    await c.store.close()


async def test_a_reused_request_id_still_gets_its_own_rows(controls: Controls) -> None:
    _, secret = await controls.keys.create(KeySpec())
    for _ in range(2):  # clients choose x-request-id and may repeat one
        await run(controls, make_ctx(secret, "gpt-4o", rid="req-same"))
    await controls.recorder.flush()
    assert len(await controls.store.audit(request_id="req-same")) == 2
    assert sum(r.requests for r in await controls.store.spend("key")) == 2
