"""Offline router metrics on per-question outcomes of a weak and a strong model.

A router with scores s sends the k highest-scoring questions to the strong model. Sweeping
k from 0 to n gives the quality-vs-strong-share curve; from it:

- PGR(k) = (quality(k) - weak) / (strong - weak), the performance gap recovered;
- APGR, the area under PGR over the strong share in [0, 1] (random routing: 0.5);
- CPT(x), the smallest strong share whose PGR reaches x;
- the cost reduction at a quality target (e.g. 95% of the strong model's quality), with
  per-question costs from configured prices.

Confidence intervals come from a bootstrap over questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Per-question quality (0/1 or a score in [0, 1]) and cost for the two models."""

    weak: FloatArray
    strong: FloatArray
    weak_cost: FloatArray
    strong_cost: FloatArray

    @classmethod
    def of(
        cls,
        weak: npt.ArrayLike,
        strong: npt.ArrayLike,
        weak_cost: npt.ArrayLike | float = 0.0,
        strong_cost: npt.ArrayLike | float = 1.0,
    ) -> Outcomes:
        w = np.asarray(weak, dtype=np.float64)
        s = np.asarray(strong, dtype=np.float64)
        if w.shape != s.shape or w.ndim != 1:
            raise ValueError("weak and strong must be 1-d arrays of the same length")
        wc = np.broadcast_to(np.asarray(weak_cost, dtype=np.float64), w.shape).copy()
        sc = np.broadcast_to(np.asarray(strong_cost, dtype=np.float64), w.shape).copy()
        return cls(w, s, wc, sc)

    def __len__(self) -> int:
        return int(self.weak.shape[0])

    def take(self, idx: npt.NDArray[np.intp]) -> Outcomes:
        return Outcomes(self.weak[idx], self.strong[idx], self.weak_cost[idx], self.strong_cost[idx])


@dataclass(frozen=True, slots=True)
class Curve:
    """Quality and cost when the top k (k = 0..n) questions go to the strong model."""

    share: FloatArray
    quality: FloatArray
    cost: FloatArray
    weak_quality: float
    strong_quality: float
    strong_cost: float

    @property
    def pgr(self) -> FloatArray:
        gap = self.strong_quality - self.weak_quality
        if gap == 0:
            return np.zeros_like(self.quality)
        return (self.quality - self.weak_quality) / gap


def curve(scores: npt.ArrayLike, out: Outcomes) -> Curve:
    """The routing curve; ties in ``scores`` are broken by question order."""
    n = len(out)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    s, w = out.strong[order], out.weak[order]
    sc, wc = out.strong_cost[order], out.weak_cost[order]
    head_s = np.concatenate([[0.0], np.cumsum(s)])
    tail_w = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])
    head_sc = np.concatenate([[0.0], np.cumsum(sc)])
    tail_wc = np.concatenate([np.cumsum(wc[::-1])[::-1], [0.0]])
    return Curve(
        share=np.arange(n + 1, dtype=np.float64) / n,
        quality=(head_s + tail_w) / n,
        cost=head_sc + tail_wc,
        weak_quality=float(w.mean()),
        strong_quality=float(s.mean()),
        strong_cost=float(sc.sum()),
    )


def apgr(c: Curve) -> float:
    """Area under the PGR curve over the strong share (trapezoidal)."""
    p, x = c.pgr, c.share
    return float(np.sum((p[1:] + p[:-1]) * np.diff(x)) / 2)


def cpt(c: Curve, target: float) -> float:
    """Smallest strong share whose PGR reaches ``target`` (1.0 if never)."""
    hit = np.nonzero(c.pgr >= target - 1e-12)[0]
    return float(c.share[hit[0]]) if hit.size else 1.0


def cost_cut_at(c: Curve, quality_frac: float = 0.95) -> float:
    """1 - cost / all-strong cost at the cheapest point whose quality >= frac x strong quality."""
    ok = c.quality >= quality_frac * c.strong_quality - 1e-12
    if not ok.any() or c.strong_cost <= 0:
        return 0.0
    return float(1.0 - c.cost[ok].min() / c.strong_cost)


@dataclass(frozen=True, slots=True)
class Metrics:
    apgr: float
    cpt50: float
    cpt80: float
    cost_cut_at_95: float

    @classmethod
    def of(cls, c: Curve) -> Metrics:
        return cls(apgr(c), cpt(c, 0.5), cpt(c, 0.8), cost_cut_at(c, 0.95))

    def as_array(self) -> FloatArray:
        return np.array([self.apgr, self.cpt50, self.cpt80, self.cost_cut_at_95])


METRIC_NAMES = ("apgr", "cpt50", "cpt80", "cost_cut_at_95")


@dataclass(frozen=True, slots=True)
class Estimate:
    """A metric's point value and its bootstrap 95% interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


ScoreFn = Callable[[np.random.Generator], FloatArray]


def evaluate(
    score_fn: ScoreFn,
    out: Outcomes,
    *,
    seeds: int = 1,
    boot: int = 200,
    rng_seed: int = 0,
) -> dict[str, Estimate]:
    """Metrics with bootstrap CIs. ``score_fn(rng)`` returns scores (random routers use ``rng``);
    the point value averages ``seeds`` draws, each bootstrap replicate draws once."""
    rng = np.random.default_rng(rng_seed)
    point = np.mean([Metrics.of(curve(score_fn(rng), out)).as_array() for _ in range(seeds)], axis=0)
    n = len(out)
    reps = np.empty((boot, len(METRIC_NAMES)))
    for b in range(boot):
        idx = rng.integers(0, n, n)
        scores = score_fn(rng)[idx]
        reps[b] = Metrics.of(curve(scores, out.take(idx))).as_array()
    low, high = np.percentile(reps, [2.5, 97.5], axis=0)
    return {name: Estimate(float(point[i]), float(low[i]), float(high[i])) for i, name in enumerate(METRIC_NAMES)}


def fixed(scores: npt.ArrayLike) -> ScoreFn:
    """A ScoreFn for a deterministic router."""
    arr = np.asarray(scores, dtype=np.float64)
    return lambda rng: arr


def random_scores(n: int) -> ScoreFn:
    return lambda rng: rng.random(n)


def threshold_for_share(reference_scores: npt.ArrayLike, share: float) -> float:
    """The score threshold that sends ``share`` of the reference traffic to the strong model."""
    ref = np.sort(np.asarray(reference_scores, dtype=np.float64))
    if share <= 0:
        return float(np.nextafter(ref[-1], np.inf)) if ref.size else 1.0
    if share >= 1:
        return float(np.nextafter(ref[0], -np.inf)) if ref.size else 0.0
    return float(np.quantile(ref, 1.0 - share))


def cascade_curve(doubt: npt.ArrayLike, out: Outcomes) -> Curve:
    """The curve of a cascade that always pays for the weak answer and escalates the k
    most doubtful ones (k = 0..n) to the strong model."""
    c = curve(doubt, out)
    return Curve(
        c.share, c.quality, c.cost + _escalated_weak_cost(doubt, out), c.weak_quality, c.strong_quality, c.strong_cost
    )


def _escalated_weak_cost(doubt: npt.ArrayLike, out: Outcomes) -> FloatArray:
    """Per k, the weak answers already paid for that the plain curve counts as not bought."""
    order = np.argsort(-np.asarray(doubt, dtype=np.float64), kind="stable")
    return np.concatenate([[0.0], np.cumsum(out.weak_cost[order])])
