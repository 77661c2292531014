"""Agreement between two annotators: Cohen's kappa and a (stratified) bootstrap interval.

Hand labels decide benchmark figures (the cache's false-hit share is counted on them), so
how far two careful annotators agree is part of the figure's error. Kappa corrects raw
agreement for the agreement two annotators would reach by chance with their own label
rates. Samples drawn per stratum (one class over-sampled) carry design weights, so both
the kappa and the bootstrap accept weights and strata: resampling happens inside each
stratum, as the sample was drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

Index = npt.NDArray[np.int64]


def cohen_kappa(a: Sequence[int], b: Sequence[int], weights: Sequence[float] | None = None) -> float:
    """Cohen's kappa of two label sequences; ``weights`` count each item that many times.

    NaN when chance agreement is already 1 (both annotators used one and the same label
    throughout): kappa is undefined there, not perfect.
    """
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError("two non-empty label sequences of the same length are needed")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != x.shape or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative, one per item, and not all zero")
    total = float(w.sum())
    observed = float(w[x == y].sum()) / total
    chance = sum(float(w[x == c].sum()) * float(w[y == c].sum()) for c in np.union1d(x, y)) / total**2
    if chance >= 1.0:
        return float("nan")
    return (observed - chance) / (1.0 - chance)


def stratified_bootstrap(
    stat: Callable[[Index], float],
    strata: Sequence[int],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval of ``stat`` over resamples drawn with replacement inside each stratum.

    ``stat`` gets the resampled item indices (each stratum keeps its size). Resamples where
    the statistic is undefined (NaN) are dropped; the interval is over the rest.
    """
    labels = np.asarray(strata)
    groups = [np.flatnonzero(labels == s) for s in np.unique(labels)]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups]).astype(np.int64)
        v = stat(idx)
        if not np.isnan(v):
            values.append(v)
    if not values:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)
