"""Property tests for the balancing strategies."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from portico.config import ModelSettings
from portico.providers import EchoProvider
from portico.resilience import Deployment
from portico.resilience.balancer import latency, least_busy, priority, weighted
from portico.resilience.settings import ResilienceSettings


def group(weights: list[float], *, priorities: list[int] | None = None) -> list[Deployment]:
    out = []
    for i, w in enumerate(weights):
        prio = priorities[i] if priorities else 0
        ms = ModelSettings(name="m", provider="echo", weight=w, priority=prio)
        out.append(Deployment(f"m#{i}", "m", ms, EchoProvider()))
    return out


weights_st = st.lists(st.floats(min_value=0.5, max_value=10.0), min_size=2, max_size=5)


@settings(max_examples=25, deadline=None)
@given(weights=weights_st, seed=st.integers(0, 2**32 - 1))
def test_weighted_distribution_follows_weights(weights: list[float], seed: int) -> None:
    ds = group(weights)
    rng = random.Random(seed)
    n = 6000
    picks = Counter(weighted(ds, rng).id for _ in range(n))
    total = sum(weights)
    for d, w in zip(ds, weights, strict=True):
        expected = w / total
        # 6000 draws: the standard error is at most ~0.0065; 0.03 is > 4.5 sigma
        assert abs(picks[d.id] / n - expected) < 0.03


@settings(max_examples=50, deadline=None)
@given(loads=st.lists(st.integers(0, 20), min_size=1, max_size=6), seed=st.integers(0, 1000))
def test_least_busy_prefers_the_idlest(loads: list[int], seed: int) -> None:
    ds = group([1.0] * len(loads))
    for d, load in zip(ds, loads, strict=True):
        d.in_flight = load
    chosen = least_busy(ds, random.Random(seed))
    assert chosen.in_flight == min(loads)


def test_least_busy_spreads_ties() -> None:
    ds = group([1.0, 1.0, 1.0])
    rng = random.Random(1)
    assert {least_busy(ds, rng).id for _ in range(100)} == {"m#0", "m#1", "m#2"}


@settings(max_examples=50, deadline=None)
@given(lat=st.lists(st.floats(0.01, 5.0), min_size=2, max_size=6), seed=st.integers(0, 1000))
def test_latency_two_choices_never_picks_the_slowest(lat: list[float], seed: int) -> None:
    ds = group([1.0] * len(lat))
    for d, seconds in zip(ds, lat, strict=True):
        d.latency = seconds
    chosen = latency(ds, random.Random(seed))
    slowest = max(lat)
    if lat.count(slowest) == 1:
        assert chosen.latency < slowest  # of two samples the slower never wins


def test_latency_prefers_the_fast_deployment_overall() -> None:
    ds = group([1.0, 1.0, 1.0])
    for d, seconds in zip(ds, [0.05, 0.5, 2.0], strict=True):
        d.latency = seconds
    rng = random.Random(3)
    picks = Counter(latency(ds, rng).id for _ in range(3000))
    assert picks["m#0"] > picks["m#1"] > picks["m#2"] == 0


def test_latency_samples_unmeasured_deployments() -> None:
    ds = group([1.0, 1.0])
    ds[0].latency = 0.2  # m#1 has no sample yet: it must get traffic to be measured
    assert latency(ds, random.Random(0)).id == "m#1"


@settings(max_examples=50, deadline=None)
@given(prios=st.lists(st.integers(0, 3), min_size=1, max_size=6), seed=st.integers(0, 1000))
def test_priority_picks_from_the_lowest_level(prios: list[int], seed: int) -> None:
    ds = group([1.0] * len(prios), priorities=prios)
    assert priority(ds, random.Random(seed)).settings.priority == min(prios)


def test_deployments_at_capacity_are_not_usable() -> None:
    ms = ModelSettings(name="m", provider="echo", rpm=2)
    d = Deployment("m#0", "m", ms, EchoProvider())
    now = 5000.0
    assert d.usable(now)
    d.rpm.add(now, 2)
    assert not d.usable(now + 1)
    assert d.usable(now + 120)


def test_policy_overrides_merge_into_defaults() -> None:
    rs = ResilienceSettings.model_validate(
        {
            "defaults": {"routing_strategy": "latency", "retry": {"max_attempts": 5, "base_delay": 0.2}},
            "models": {"m": {"retry": {"max_attempts": 2}, "fallbacks": ["n"]}},
        }
    )
    p = rs.policy("m")
    assert p.routing_strategy == "latency" and p.fallbacks == ["n"]
    assert p.retry.max_attempts == 2 and p.retry.base_delay == 0.2
    assert rs.policy("other").retry.max_attempts == 5
