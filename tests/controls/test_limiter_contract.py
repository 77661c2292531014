"""The Limiter contract, run against the in-process and the Redis backend alike."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from portico.errors import BudgetExceeded, RateLimited
from portico.limits.limiter import Limiter, ScopeLimits

from .conftest import Clock


def _ticket() -> str:
    return uuid.uuid4().hex


async def test_rpm_admits_exactly_n_then_refuses_with_retry_after(limiter: Limiter, clock: Clock) -> None:
    scope = ScopeLimits("key:a", rpm=3)
    for i in range(3):
        adm = await limiter.admit(_ticket(), [scope], tokens=10, cost_usd=0)
        assert adm.quota.limit_requests == 3
        assert adm.quota.remaining_requests == 2 - i
    with pytest.raises(RateLimited) as err:
        await limiter.admit(_ticket(), [scope], tokens=10, cost_usd=0)
    assert err.value.status == 429 and err.value.code == "rate_limit_exceeded"
    assert err.value.retry_after is not None and 0 < err.value.retry_after <= 60
    assert err.value.headers["x-ratelimit-limit-requests"] == "3"
    assert err.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert "retry-after" in err.value.response_headers()
    clock.now += 61  # the window slides past the three admissions
    await limiter.admit(_ticket(), [scope], tokens=10, cost_usd=0)


async def test_rpm_window_slides_per_second(limiter: Limiter, clock: Clock) -> None:
    scope = ScopeLimits("key:slide", rpm=2)
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)
    clock.now += 30
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)
    clock.now += 29
    with pytest.raises(RateLimited) as err:
        await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)
    assert err.value.retry_after is not None and err.value.retry_after <= 2.0  # the first one leaves soon
    clock.now += 2
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)


async def test_concurrent_admissions_never_exceed_rpm(limiter: Limiter) -> None:
    scope = ScopeLimits("key:burst", rpm=10)

    async def one() -> bool:
        try:
            await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)
            return True
        except RateLimited:
            return False

    results = await asyncio.gather(*(one() for _ in range(60)))
    assert sum(results) == 10


async def test_tpm_reserves_then_reconciles_with_real_usage(limiter: Limiter) -> None:
    scope = ScopeLimits("key:tpm", tpm=1000)
    first = await limiter.admit(_ticket(), [scope], tokens=600, cost_usd=0)
    assert first.quota.limit_tokens == 1000 and first.quota.remaining_tokens == 400
    with pytest.raises(RateLimited) as err:
        await limiter.admit(_ticket(), [scope], tokens=600, cost_usd=0)
    assert err.value.headers["x-ratelimit-limit-tokens"] == "1000"
    await limiter.settle(first, tokens=100, cost_usd=0)  # it used far less than reserved
    second = await limiter.admit(_ticket(), [scope], tokens=600, cost_usd=0)
    assert second.quota.remaining_tokens == 300


async def test_request_larger_than_tpm_is_refused_for_good(limiter: Limiter) -> None:
    with pytest.raises(RateLimited) as err:
        await limiter.admit(_ticket(), [ScopeLimits("key:big", tpm=100)], tokens=101, cost_usd=0)
    assert err.value.code == "request_too_large" and not err.value.retryable


async def test_concurrency_slots_are_released_on_settle(limiter: Limiter) -> None:
    scope = ScopeLimits("key:conc", max_concurrency=2)
    a = await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)
    with pytest.raises(RateLimited):
        await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)
    await limiter.settle(a, tokens=1, cost_usd=0)
    await limiter.settle(a, tokens=1, cost_usd=0)  # settling twice changes nothing
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)
    with pytest.raises(RateLimited):
        await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0)


async def test_crashed_holder_lease_expires(limiter: Limiter, clock: Clock) -> None:
    scope = ScopeLimits("key:lease", max_concurrency=1, budget_usd=1.0)
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.9)  # never settled: its replica died
    with pytest.raises(RateLimited):
        await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.5)
    clock.now += 901
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.5)


async def test_budget_reserves_max_cost_and_settles_real_cost(limiter: Limiter) -> None:
    scope = ScopeLimits("key:bud", budget_usd=1.0, period="day")
    a = await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.4)
    b = await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.4)
    with pytest.raises(BudgetExceeded) as err:
        await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.4)
    assert err.value.status == 429 and err.value.code == "budget_exceeded" and not err.value.retryable
    assert err.value.retry_after is not None and err.value.retry_after <= 86400  # the next day
    await limiter.settle(a, tokens=1, cost_usd=0.05)
    await limiter.settle(b, tokens=1, cost_usd=0.05)
    c = await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.85)  # 0.1 spent + 0.85 <= 1
    await limiter.settle(c, tokens=1, cost_usd=0.85)
    with pytest.raises(BudgetExceeded):
        await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.06)
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.05)


async def test_budget_never_overspent_under_concurrency(limiter: Limiter) -> None:
    scope = ScopeLimits("key:race", budget_usd=1.0, period="total")
    settled: list[float] = []

    async def one() -> None:
        try:
            adm = await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.03)
        except BudgetExceeded:
            return
        await asyncio.sleep(0)
        settled.append(0.03)
        await limiter.settle(adm, tokens=1, cost_usd=0.03)

    await asyncio.gather(*(one() for _ in range(100)))
    assert len(settled) == 33 and sum(settled) <= 1.0


async def test_budget_counter_is_seeded_from_the_ledger(limiter: Limiter, spent_db: dict[str, float]) -> None:
    spent_db["key:seeded"] = 0.95  # spent before this process (or Redis) started
    scope = ScopeLimits("key:seeded", budget_usd=1.0, period="month")
    with pytest.raises(BudgetExceeded):
        await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.1)
    await limiter.admit(_ticket(), [scope], tokens=1, cost_usd=0.04)


async def test_team_limits_are_shared_by_its_keys_and_refusal_reserves_nothing(limiter: Limiter) -> None:
    team = ScopeLimits("team:t", rpm=3)
    k1, k2 = ScopeLimits("key:k1", rpm=2), ScopeLimits("key:k2", rpm=5)
    await limiter.admit(_ticket(), [k1, team], tokens=1, cost_usd=0)
    await limiter.admit(_ticket(), [k1, team], tokens=1, cost_usd=0)
    with pytest.raises(RateLimited):
        await limiter.admit(_ticket(), [k1, team], tokens=1, cost_usd=0)  # the key's own limit
    await limiter.admit(_ticket(), [k2, team], tokens=1, cost_usd=0)
    with pytest.raises(RateLimited) as err:
        await limiter.admit(_ticket(), [k2, team], tokens=1, cost_usd=0)  # the team's limit
    assert "team" in err.value.message
    # k2 was refused twice without its own counter moving: 1 of 5 used.
    adm = await limiter.admit(_ticket(), [k2], tokens=1, cost_usd=0)
    assert adm.quota.remaining_requests == 3


async def test_unlimited_scopes_admit_everything(limiter: Limiter) -> None:
    for _ in range(20):
        adm = await limiter.admit(_ticket(), [ScopeLimits("key:free")], tokens=10_000, cost_usd=5)
        await limiter.settle(adm, tokens=10, cost_usd=1)
