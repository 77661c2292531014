"""The circuit breaker opens on a failure rate, probes when half-open and recovers (stepped clock)."""

from __future__ import annotations

from typing import Any

import pytest

from portico.errors import UpstreamStatus, UpstreamUnavailable
from portico.resilience import CircuitBreaker, CircuitState
from portico.resilience.settings import BreakerSettings
from portico.testing import Behaviour, FakeUpstream

from .conftest import REPLY, FakeClock, context, openai, settings


def breaker(clock: FakeClock, **kw: Any) -> CircuitBreaker:
    opts = {"window": 10.0, "min_requests": 4, "failure_rate": 0.5, "open_for": 5.0, **kw}
    return CircuitBreaker("d#0", BreakerSettings(**opts), clock)


def test_stays_closed_below_the_minimum_number_of_requests(clock: FakeClock) -> None:
    b = breaker(clock)
    for _ in range(3):
        b.failure()
    assert b.current() is CircuitState.CLOSED and b.allow()


def test_opens_at_the_failure_rate_and_rejects(clock: FakeClock) -> None:
    b = breaker(clock)
    b.success()
    b.success()
    b.failure()
    assert b.current() is CircuitState.CLOSED  # 1 of 3, below the minimum
    b.failure()  # 2 of 4 = 50 %
    assert b.current() is CircuitState.OPEN
    assert not b.allow() and not b.available()


def test_a_low_failure_rate_never_opens(clock: FakeClock) -> None:
    b = breaker(clock, min_requests=10)
    for i in range(200):
        b.failure() if i % 4 == 0 else b.success()  # 25 %
        clock.advance(0.05)
    assert b.current() is CircuitState.CLOSED


def test_old_failures_slide_out_of_the_window(clock: FakeClock) -> None:
    b = breaker(clock)
    for _ in range(3):
        b.failure()
    clock.advance(11)  # the window is 10 s
    assert b.counts() == (0, 0)
    b.failure()
    assert b.current() is CircuitState.CLOSED


def test_half_open_admits_one_probe_and_closes_on_success(clock: FakeClock) -> None:
    b = breaker(clock)
    for _ in range(4):
        b.failure()
    clock.advance(4.9)
    assert not b.allow()
    clock.advance(0.2)
    assert b.current() is CircuitState.HALF_OPEN
    assert b.allow()  # the probe
    assert not b.allow()  # only one at a time
    b.success()
    assert b.current() is CircuitState.CLOSED and b.counts() == (0, 0)


def test_a_failed_probe_reopens_for_another_period(clock: FakeClock) -> None:
    b = breaker(clock)
    for _ in range(4):
        b.failure()
    clock.advance(5)
    assert b.allow()
    b.failure()
    assert b.current() is CircuitState.OPEN
    clock.advance(4)
    assert not b.allow()
    clock.advance(1.1)
    assert b.allow()


def test_a_released_probe_frees_its_slot(clock: FakeClock) -> None:
    b = breaker(clock)
    for _ in range(4):
        b.failure()
    clock.advance(5)
    assert b.allow() and not b.allow()
    b.release()
    assert b.allow()


def test_transitions_are_reported(clock: FakeClock) -> None:
    seen: list[CircuitState] = []
    b = CircuitBreaker("d#0", BreakerSettings(min_requests=1, open_for=1), clock, lambda _b, s: seen.append(s))
    b.failure()
    clock.advance(1)
    b.allow()
    b.success()
    assert seen == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]


async def test_breaker_opens_on_a_failing_deployment_and_recovers(
    ups: list[FakeUpstream], make_caller: Any, clock: FakeClock
) -> None:
    ups[0].set_default(Behaviour(kind="status", status=500))
    models = [openai("m", ups[0].base_url, priority=0), openai("m", ups[1].base_url, priority=1)]
    res = {
        "defaults": {
            "routing_strategy": "priority",
            "breaker": {"min_requests": 3, "failure_rate": 0.5, "open_for": 30},
        }
    }
    caller = make_caller(settings(models, res))
    for _ in range(3):
        assert (await caller(context())).text == REPLY  # primary fails, secondary answers
    assert len(ups[0].requests) == 3
    primary = caller.plans["m"].group[0]
    assert primary.breaker is not None and primary.breaker.current() is CircuitState.OPEN
    for _ in range(5):  # open: the primary is not even tried
        ctx = context()
        await caller(ctx)
        assert ctx.attempts == 1 and ctx.deployment == "m#1"
    assert len(ups[0].requests) == 3
    ups[0].set_default(Behaviour())  # the primary heals
    clock.advance(30)
    ctx = context()
    await caller(ctx)  # the half-open probe goes to the primary and closes it
    assert ctx.deployment == "m#0" and primary.breaker.current() is CircuitState.CLOSED


async def test_every_circuit_open_is_a_503_with_retry_after(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].set_default(Behaviour(kind="status", status=503))
    res = {"defaults": {"retry": {"max_attempts": 1}, "breaker": {"min_requests": 2, "open_for": 20}}}
    caller = make_caller(settings([openai("m", ups[0].base_url)], res))
    for _ in range(2):
        with pytest.raises(UpstreamStatus):
            await caller(context())
    ctx = context()
    with pytest.raises(UpstreamUnavailable) as info:
        await caller(ctx)
    assert info.value.code == "circuit_open" and info.value.status == 503
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 20
    assert ctx.attempts == 0 and len(ups[0].requests) == 2
