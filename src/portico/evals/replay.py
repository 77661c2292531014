"""Replay a routing policy on recorded per-query outcomes, without calling any model.

Inputs are plain arrays over the same n queries: the quality of the weak (cheap) model's
answer, the quality of the strong model's answer (0/1 correctness or graded scores), and
the router's score (higher = more in need of the strong model). Sending the top-k scored
queries to the strong model for k = 0..n traces the quality vs strong-share curve; the
RouteLLM figures (APGR, CPT, cost cut at a quality level) are read off that curve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Curve:
    """``share[k]`` of queries go to the strong model and overall quality is ``quality[k]``;
    ``threshold[k]`` is the router score at or above which a query goes strong (inf at k = 0)."""

    share: FloatArray
    quality: FloatArray
    threshold: FloatArray
    weak_quality: float
    strong_quality: float

    @property
    def gap(self) -> float:
        return self.strong_quality - self.weak_quality

    def pgr(self) -> FloatArray:
        """Performance gap recovered at each point (0 = weak only, 1 = strong only)."""
        if abs(self.gap) < 1e-12:
            return np.ones_like(self.quality)
        return (self.quality - self.weak_quality) / self.gap

    def quality_at(self, share: float) -> float:
        return float(np.interp(share, self.share, self.quality))


def _arrays(weak: npt.ArrayLike, strong: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[FloatArray, ...]:
    w = np.asarray(weak, dtype=np.float64)
    s = np.asarray(strong, dtype=np.float64)
    r = np.asarray(scores, dtype=np.float64)
    if not (w.ndim == s.ndim == r.ndim == 1 and len(w) == len(s) == len(r)):
        raise ValueError("weak, strong and scores must be 1-d arrays of the same length")
    if len(w) == 0:
        raise ValueError("no queries")
    return w, s, r


def strong_share_curve(weak: npt.ArrayLike, strong: npt.ArrayLike, scores: npt.ArrayLike) -> Curve:
    """Quality vs share of strong-model calls, one point per query (n + 1 points).

    Tied scores are kept together: the curve only has points where a threshold can cut,
    i.e. between distinct scores, so a constant router does not look better than random.
    """
    w, s, r = _arrays(weak, strong, scores)
    n = len(w)
    order = np.argsort(-r, kind="stable")
    gain = np.concatenate([[0.0], np.cumsum((s - w)[order])])
    quality = (w.sum() + gain) / n
    sorted_scores = r[order]
    threshold = np.concatenate([[np.inf], sorted_scores])
    # Keep k where the next score differs (a threshold can separate k from k+1) plus both ends.
    cut = np.ones(n + 1, dtype=bool)
    cut[1:n] = sorted_scores[:-1] != sorted_scores[1:]
    share = np.arange(n + 1, dtype=np.float64) / n
    return Curve(
        share=share[cut],
        quality=quality[cut],
        threshold=threshold[cut],
        weak_quality=float(w.mean()),
        strong_quality=float(s.mean()),
    )


def apgr(curve: Curve) -> float:
    """Area under the performance-gap-recovered curve over strong share in [0, 1]."""
    return float(np.trapezoid(curve.pgr(), curve.share))


def cpt(curve: Curve, recovered: float) -> float:
    """Call-performance threshold: the smallest strong share recovering ``recovered`` of the gap
    (linearly interpolated between curve points)."""
    pgr = curve.pgr()
    hit = np.nonzero(pgr >= recovered - 1e-12)[0]
    if len(hit) == 0:
        return 1.0
    i = int(hit[0])
    if i == 0:
        return float(curve.share[0])
    x0, x1, y0, y1 = curve.share[i - 1], curve.share[i], pgr[i - 1], pgr[i]
    return float(x0 + (recovered - y0) * (x1 - x0) / (y1 - y0)) if y1 != y0 else float(x1)


def share_for_quality(curve: Curve, quality: float) -> float | None:
    """Smallest strong share whose overall quality reaches ``quality`` (None if never)."""
    hit = np.nonzero(curve.quality >= quality - 1e-12)[0]
    if len(hit) == 0:
        return None
    i = int(hit[0])
    if i == 0:
        return float(curve.share[0])
    x0, x1, y0, y1 = curve.share[i - 1], curve.share[i], curve.quality[i - 1], curve.quality[i]
    return float(x0 + (quality - y0) * (x1 - x0) / (y1 - y0)) if y1 != y0 else float(x1)


def cost_reduction_at(curve: Curve, *, quality_fraction: float, weak_cost: float, strong_cost: float) -> float | None:
    """Cost saved versus always calling the strong model, at the cheapest point reaching
    ``quality_fraction`` of the strong model's quality; costs are per request (any unit)."""
    if strong_cost <= 0:
        raise ValueError("strong_cost must be > 0")
    share = share_for_quality(curve, quality_fraction * curve.strong_quality)
    if share is None:
        return None
    mixed = share * strong_cost + (1 - share) * weak_cost
    return 1.0 - mixed / strong_cost


def random_router_scores(n: int, seed: int) -> FloatArray:
    return np.random.default_rng(seed).random(n)


def bootstrap(
    metric: Callable[[Curve], float],
    weak: npt.ArrayLike,
    strong: npt.ArrayLike,
    scores: npt.ArrayLike,
    *,
    rounds: int = 200,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(point estimate, 2.5th, 97.5th percentile) of ``metric`` over query resamples."""
    w, s, r = _arrays(weak, strong, scores)
    rng = np.random.default_rng(seed)
    point = metric(strong_share_curve(w, s, r))
    samples = []
    for _ in range(rounds):
        idx = rng.integers(0, len(w), len(w))
        samples.append(metric(strong_share_curve(w[idx], s[idx], r[idx])))
    lo, hi = np.percentile(samples, [2.5, 97.5])
    return float(point), float(lo), float(hi)
