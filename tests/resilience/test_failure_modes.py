"""Each upstream failure mode leads to the right retry, fallback or error (non-streamed calls)."""

from __future__ import annotations

from typing import Any

import pytest

from portico.errors import PorticoError, UpstreamStatus, UpstreamUnavailable
from portico.testing import Behaviour, FakeUpstream

from .conftest import REPLY, FakeClock, context, dead_url, openai, request, settings

PRIORITY = {"defaults": {"routing_strategy": "priority"}}


def two(ups: list[FakeUpstream], **extra: Any) -> list[dict[str, Any]]:
    """Model ``m`` on ups[0] (primary, priority 0) and ups[1] (priority 1)."""
    return [openai("m", ups[0].base_url, priority=0, **extra), openai("m", ups[1].base_url, priority=1, **extra)]


@pytest.mark.parametrize(
    "fault",
    [
        Behaviour(kind="status", status=500),
        Behaviour(kind="status", status=502),
        Behaviour(kind="status", status=503),
        Behaviour(kind="status", status=504),
        Behaviour(kind="status", status=408),
        Behaviour(kind="reset"),
        Behaviour(kind="malformed"),
        Behaviour(kind="hang"),  # no first byte within timeout.first_token (0.4 s)
    ],
    ids=["500", "502", "503", "504", "408", "reset", "malformed", "timeout"],
)
async def test_retryable_failure_moves_to_the_next_deployment(
    ups: list[FakeUpstream], make_caller: Any, clock: FakeClock, fault: Behaviour
) -> None:
    ups[0].push(fault)
    caller = make_caller(settings(two(ups), PRIORITY))
    ctx = context()
    response = await caller(ctx)
    assert response.text == REPLY
    assert ctx.attempts == 2
    assert ctx.deployment == "m#1"
    assert len(ups[0].requests) == 1 and len(ups[1].requests) == 1
    assert clock.sleeps == []  # another deployment was free: no backoff before it
    assert ctx.route_reason == "direct"


async def test_connection_refused_moves_to_the_next_deployment(ups: list[FakeUpstream], make_caller: Any) -> None:
    models = [openai("m", dead_url(), priority=0), openai("m", ups[1].base_url, priority=1)]
    caller = make_caller(settings(models, PRIORITY))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert (ctx.attempts, ctx.deployment) == (2, "m#1")


async def test_same_deployment_is_retried_with_full_jitter_backoff(
    ups: list[FakeUpstream], make_caller: Any, clock: FakeClock
) -> None:
    ups[0].push(Behaviour(kind="status", status=503), Behaviour(kind="status", status=503))
    res = {"defaults": {"retry": {"max_attempts": 3, "base_delay": 0.1, "max_delay": 1.0}}}
    caller = make_caller(settings([openai("m", ups[0].base_url)], res))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.attempts == 3
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 0.1 and 0 <= clock.sleeps[1] <= 0.2  # uniform(0, base * 2^n)


async def test_429_retry_after_is_honoured_on_the_only_deployment(
    ups: list[FakeUpstream], make_caller: Any, clock: FakeClock
) -> None:
    ups[0].push(Behaviour(kind="status", status=429, retry_after=3))
    caller = make_caller(settings([openai("m", ups[0].base_url)]))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.attempts == 2
    assert sum(clock.sleeps) >= 3  # waited out the Retry-After before asking again


async def test_429_with_another_deployment_fails_over_without_waiting(
    ups: list[FakeUpstream], make_caller: Any, clock: FakeClock
) -> None:
    ups[0].push(Behaviour(kind="status", status=429, retry_after=30))
    caller = make_caller(settings(two(ups), PRIORITY))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.deployment == "m#1" and clock.sleeps == []
    # the rate-limited deployment cools down for its Retry-After: the next request skips it
    ctx2 = context()
    await caller(ctx2)
    assert ctx2.deployment == "m#1" and len(ups[0].requests) == 1
    clock.advance(31)
    ctx3 = context()
    await caller(ctx3)
    assert ctx3.deployment == "m#0"


async def test_rate_limited_everywhere_goes_to_the_rate_limit_chain(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].set_default(Behaviour(kind="status", status=429, retry_after=60))  # longer than max_retry_after
    models = [openai("m", ups[0].base_url), openai("spare", ups[1].base_url)]
    caller = make_caller(settings(models, {"models": {"m": {"on_rate_limited": ["spare"]}}}))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.model == "spare"
    assert ctx.route_reason == "fallback from m after 429"
    assert ctx.attempts == 2


async def test_non_retryable_error_is_returned_at_once(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].push(Behaviour(kind="status", status=400, message="bad temperature"))
    res = {**PRIORITY, "models": {"m": {"fallbacks": ["n"]}}}
    caller = make_caller(settings([*two(ups), openai("n", ups[2].base_url)], res))
    ctx = context()
    with pytest.raises(UpstreamStatus) as info:
        await caller(ctx)
    assert info.value.status == 400 and "bad temperature" in info.value.message
    assert ctx.attempts == 1 and not ups[1].requests and not ups[2].requests


async def test_all_attempts_fail_returns_the_last_error(ups: list[FakeUpstream], make_caller: Any) -> None:
    for up in ups[:2]:
        up.set_default(Behaviour(kind="status", status=503))
    caller = make_caller(settings(two(ups), {"defaults": {"retry": {"max_attempts": 4, "base_delay": 0}}}))
    ctx = context()
    with pytest.raises(UpstreamStatus) as info:
        await caller(ctx)
    assert info.value.upstream_status == 503 and info.value.status == 502
    assert ctx.attempts == 4


async def test_fallback_chain_after_the_model_gives_up(ups: list[FakeUpstream], make_caller: Any) -> None:
    models = [openai("m", dead_url()), openai("n", dead_url()), openai("local", ups[0].base_url)]
    res = {"models": {"m": {"fallbacks": ["n", "local"], "retry": {"max_attempts": 1}}}}
    caller = make_caller(settings(models, res))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.model == "local" and ctx.deployment == "local#0"
    assert ctx.route_reason.startswith("fallback from m after connection error")
    assert ctx.attempts == 1 + 3 + 1  # m: 1, n: its own default of 3, local: 1


async def test_context_window_goes_to_the_larger_model_without_calling_the_small_one(
    ups: list[FakeUpstream], make_caller: Any
) -> None:
    models = [openai("m", ups[0].base_url, context_window=50), openai("big", ups[1].base_url)]
    caller = make_caller(settings(models, {"models": {"m": {"on_context_window": ["big"]}}}))
    ctx = context(text="word " * 400)
    assert (await caller(ctx)).text == REPLY
    assert ctx.model == "big" and not ups[0].requests
    assert ctx.route_reason == "fallback from m after context window exceeded"


async def test_context_window_error_from_upstream_uses_its_chain(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].push(Behaviour(kind="status", status=400, error_code="context_length_exceeded", message="too long"))
    models = [openai("m", ups[0].base_url), openai("big", ups[1].base_url)]
    caller = make_caller(settings(models, {"models": {"m": {"on_context_window": ["big"]}}}))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.model == "big" and ctx.attempts == 2


async def test_content_policy_refusal_uses_only_its_own_chain(ups: list[FakeUpstream], make_caller: Any) -> None:
    refusal = Behaviour(kind="status", status=400, error_code="content_policy_violation", message="refused")
    models = [openai("m", ups[0].base_url), openai("n", ups[1].base_url), openai("lenient", ups[2].base_url)]
    ups[0].push(refusal)
    caller = make_caller(settings(models, {"models": {"m": {"fallbacks": ["n"], "on_content_policy": ["lenient"]}}}))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.model == "lenient" and not ups[1].requests
    # without a content-policy chain the refusal is the answer (the general chain is not used)
    ups[0].push(refusal)
    plain = make_caller(settings(models, {"models": {"m": {"fallbacks": ["n"]}}}))
    with pytest.raises(PorticoError) as info:
        await plain(context())
    assert info.value.code == "content_policy_violation" and not ups[1].requests


async def test_disabled_resilience_is_one_attempt_and_no_fallback(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].push(Behaviour(kind="status", status=503))
    models = [*two(ups), openai("n", ups[2].base_url)]
    caller = make_caller(settings(models, {"enabled": False, **PRIORITY, "models": {"m": {"fallbacks": ["n"]}}}))
    ctx = context()
    with pytest.raises(UpstreamStatus):
        await caller(ctx)
    assert ctx.attempts == 1 and not ups[1].requests and not ups[2].requests


async def test_side_call_retries_but_leaves_the_context_alone(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].push(Behaviour(kind="status", status=500))
    caller = make_caller(settings(two(ups), PRIORITY))
    ctx = context(model="other")
    response = await caller.call(ctx, "m", request("m"))
    assert response.text == REPLY
    assert ctx.model == "other" and ctx.attempts == 0 and ctx.usage is None
    assert ctx.upstream_seconds > 0


async def test_unknown_fallback_names_and_dead_everything_end_in_an_error(make_caller: Any) -> None:
    caller = make_caller(settings([openai("m", dead_url())], {"models": {"m": {"fallbacks": ["nowhere"]}}}))
    with pytest.raises(UpstreamUnavailable):
        await caller(context())


async def test_latency_strategy_steers_traffic_to_the_faster_deployment(
    ups: list[FakeUpstream], make_caller: Any
) -> None:
    ups[0].set_default(Behaviour(delay=0.05))
    models = [openai("m", ups[0].base_url), openai("m", ups[1].base_url)]
    caller = make_caller(settings(models, {"defaults": {"routing_strategy": "latency"}}))
    for _ in range(30):
        await caller(context())
    slow, fast = caller.plans["m"].group
    assert slow.latency > fast.latency > 0
    assert len(ups[1].requests) >= 25  # after one sample each, two choices always prefer the fast one
