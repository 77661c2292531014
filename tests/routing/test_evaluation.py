import numpy as np
import pytest

from portico.routing.evaluation import (
    Outcomes,
    apgr,
    cost_cut_at,
    cpt,
    curve,
    evaluate,
    fixed,
    random_scores,
    threshold_for_share,
)


def _data(n: int = 400, seed: int = 0) -> Outcomes:
    rng = np.random.default_rng(seed)
    weak = (rng.random(n) < 0.6).astype(float)
    strong = np.maximum(weak, (rng.random(n) < 0.5).astype(float))
    return Outcomes.of(weak, strong, 0.0, 1.0)


def test_oracle_beats_random_beats_anti_oracle() -> None:
    out = _data()
    gain = out.strong - out.weak
    oracle = apgr(curve(gain, out))
    anti = apgr(curve(-gain, out))
    rand = np.mean([apgr(curve(np.random.default_rng(s).random(len(out)), out)) for s in range(20)])
    assert oracle > 0.85 > 0.5 > 0.15 > anti
    assert rand == pytest.approx(0.5, abs=0.05)


def test_curve_endpoints_are_the_two_models() -> None:
    out = _data()
    c = curve(np.arange(len(out)), out)
    assert c.quality[0] == pytest.approx(out.weak.mean())
    assert c.quality[-1] == pytest.approx(out.strong.mean())
    assert c.pgr[0] == pytest.approx(0.0) and c.pgr[-1] == pytest.approx(1.0)


def test_cpt_and_cost_cut_for_the_oracle() -> None:
    out = _data()
    gain = out.strong - out.weak
    c = curve(gain, out)
    share_needed = gain.mean()  # the oracle recovers the whole gap after the gain questions
    assert cpt(c, 1.0) == pytest.approx(share_needed, abs=1 / len(out))
    assert cpt(c, 0.5) == pytest.approx(share_needed / 2, abs=2 / len(out))
    # weak calls are free here, so the cost cut is 1 - share at the 95% point
    assert cost_cut_at(c, 0.95) > 1 - share_needed - 1e-9


def test_evaluate_gives_intervals_around_the_point() -> None:
    out = _data()
    res = evaluate(fixed(out.strong - out.weak), out, boot=50)
    assert res["apgr"].low <= res["apgr"].value <= res["apgr"].high
    rnd = evaluate(random_scores(len(out)), out, seeds=5, boot=50)
    assert rnd["apgr"].value < res["apgr"].value


def test_threshold_for_share() -> None:
    ref = np.linspace(0, 1, 1001)
    assert threshold_for_share(ref, 0.3) == pytest.approx(0.7, abs=1e-3)
    assert (ref > threshold_for_share(ref, 0.0)).sum() == 0
    assert (ref > threshold_for_share(ref, 1.0)).sum() == len(ref)
