from __future__ import annotations

import numpy as np
import pytest

from portico.evals.replay import (
    apgr,
    bootstrap,
    cost_reduction_at,
    cpt,
    random_router_scores,
    share_for_quality,
    strong_share_curve,
)

# 10 queries: the weak model is right on 5, the strong one on 9 (it fixes 4 and breaks none... but one).
WEAK = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], dtype=float)
STRONG = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 0], dtype=float)


def test_oracle_router_recovers_the_gap_fastest() -> None:
    oracle = STRONG - WEAK  # needs strong exactly where strong is better
    curve = strong_share_curve(WEAK, STRONG, oracle)
    assert curve.weak_quality == 0.5 and curve.strong_quality == 0.8
    assert curve.quality[0] == 0.5 and curve.quality[-1] == pytest.approx(0.8)
    assert curve.quality.max() == pytest.approx(0.9)  # 4 fixes, the one break avoided
    assert cpt(curve, 1.0) == pytest.approx(0.3, abs=1e-9)  # 3 of 10 strong calls recover the gap
    assert apgr(curve) > 0.9


def test_random_router_is_about_half() -> None:
    rng = np.random.default_rng(12345)  # not a router seed: scores must be independent
    weak = rng.random(2000) < 0.5
    strong = weak | (rng.random(2000) < 0.6)
    values = [apgr(strong_share_curve(weak, strong, random_router_scores(2000, seed))) for seed in range(5)]
    assert float(np.mean(values)) == pytest.approx(0.5, abs=0.03)


def test_constant_scores_equal_random_interpolation() -> None:
    curve = strong_share_curve(WEAK, STRONG, np.zeros(10))
    assert list(curve.share) == [0.0, 1.0]
    assert apgr(curve) == pytest.approx(0.5)


def test_cost_reduction_and_share_for_quality() -> None:
    curve = strong_share_curve(WEAK, STRONG, STRONG - WEAK)
    share = share_for_quality(curve, 0.95 * 0.8)
    assert share is not None and share == pytest.approx(0.26)
    cut = cost_reduction_at(curve, quality_fraction=0.95, weak_cost=0.1, strong_cost=1.0)
    assert cut == pytest.approx(1 - (0.26 + 0.74 * 0.1))
    never = strong_share_curve(WEAK, STRONG, WEAK - STRONG)  # worst router still ends at strong quality
    assert share_for_quality(never, 0.95) is None


def test_bootstrap_interval_contains_point() -> None:
    point, lo, hi = bootstrap(apgr, WEAK, STRONG, STRONG - WEAK, rounds=50, seed=3)
    assert lo <= point <= hi


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="same length"):
        strong_share_curve([1, 0], [1], [0.1, 0.2])
    with pytest.raises(ValueError, match="no queries"):
        strong_share_curve([], [], [])
