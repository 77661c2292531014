"""Balancing strategies: pick one deployment among the usable candidates of a model.

Every strategy is a function ``(candidates, rng) -> Deployment`` over a non-empty list;
filtering (capacity, cooldown, open circuits, already tried) happens before.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from portico.resilience.deployments import Deployment
from portico.resilience.settings import RoutingStrategy

Strategy = Callable[[Sequence[Deployment], random.Random], Deployment]


def weighted(candidates: Sequence[Deployment], rng: random.Random) -> Deployment:
    """Random, proportional to ``weight``."""
    if len(candidates) == 1:
        return candidates[0]
    total = 0.0
    for d in candidates:
        total += d.weight
    x = rng.random() * total
    for d in candidates:
        x -= d.weight
        if x < 0:
            return d
    return candidates[-1]


def least_busy(candidates: Sequence[Deployment], rng: random.Random) -> Deployment:
    """Fewest requests in flight relative to weight; ties broken at random."""
    best: list[Deployment] = []
    best_load = float("inf")
    for d in candidates:
        load = d.in_flight / d.weight
        if load < best_load:
            best, best_load = [d], load
        elif load == best_load:
            best.append(d)
    return best[0] if len(best) == 1 else rng.choice(best)


def _score(d: Deployment) -> float:
    # Expected wait: latency times the queue in front; an unmeasured deployment scores 0 so it gets sampled.
    return d.latency * (d.in_flight + 1) / d.weight


def latency(candidates: Sequence[Deployment], rng: random.Random) -> Deployment:
    """Power of two choices on the EWMA latency: sample two, keep the faster (load-adjusted) one."""
    if len(candidates) == 1:
        return candidates[0]
    n = len(candidates)
    i = int(rng.random() * n)
    j = int(rng.random() * (n - 1))
    a, b = candidates[i], candidates[j + 1 if j >= i else j]  # two distinct samples
    sa, sb = _score(a), _score(b)
    if sa == sb:
        return a if rng.random() < 0.5 else b
    return a if sa < sb else b


def priority(candidates: Sequence[Deployment], rng: random.Random) -> Deployment:
    """The lowest ``priority`` number first (0 = primary); weighted random within a level."""
    top = min(d.settings.priority for d in candidates)
    level = [d for d in candidates if d.settings.priority == top]
    return weighted(level, rng)


STRATEGIES: dict[RoutingStrategy, Strategy] = {
    "weighted": weighted,
    "least_busy": least_busy,
    "latency": latency,
    "priority": priority,
}
