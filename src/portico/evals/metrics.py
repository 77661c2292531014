"""Summary figures for one model or route: accuracy with a Wilson 95% CI, latency percentiles,
TTFT, cost per 1K requests, error rate, cache hit rate and tokens."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from portico.evals.records import RowResult

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval; well-behaved at 0 and n, unlike the normal approximation."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), ``None`` without data."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def is_cache_hit(header: str) -> bool:
    """``x-portico-cache`` is ``miss`` or ``exact`` / ``semantic`` (+ similarity)."""
    value = header.strip().lower()
    return bool(value) and not value.startswith(("miss", "bypass", "off", "none"))


@dataclass(frozen=True)
class Summary:
    target: str
    kind: str
    rows: int
    planned: int
    scored: int
    correct: int
    accuracy: float | None
    accuracy_ci_low: float | None
    accuracy_ci_high: float | None
    errors: int
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    cost_usd: float | None
    cost_per_1k: float | None
    cost_source: str | None
    cache_hits: int
    cache_hit_rate: float | None
    prompt_tokens: int
    completion_tokens: int
    tokens_per_request: float | None
    groundedness: float | None = None  # mean share of grounded sentences (rows with a grounded check)
    hallucination_rate: float | None = None  # share of those rows with an ungrounded sentence

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def metric(self, name: str) -> float | None:
        value = getattr(self, name, None)
        return float(value) if isinstance(value, int | float) else None


def summarise(target: str, kind: str, rows: Sequence[RowResult], planned: int) -> Summary:
    n = len(rows)
    errors = sum(1 for r in rows if r.error)
    # Errors count as wrong answers: a gateway that fails requests is not accurate.
    correct = sum(1 for r in rows if r.passed)
    ok = [r for r in rows if not r.error]
    lat = [r.latency_ms for r in ok]
    ttft = [r.ttft_ms for r in ok if r.ttft_ms is not None]
    lo, hi = wilson_interval(correct, n) if n else (None, None)
    costed = [r for r in rows if r.cost_usd is not None]
    cost = sum(r.cost_usd or 0.0 for r in costed) if costed else None
    sources = sorted({r.cost_source for r in costed if r.cost_source})
    with_cache = [r for r in rows if r.cache is not None]
    hits = sum(1 for r in with_cache if is_cache_hit(r.cache or ""))
    p_tok = sum(r.prompt_tokens or 0 for r in rows)
    c_tok = sum(r.completion_tokens or 0 for r in rows)
    return Summary(
        target=target,
        kind=kind,
        rows=n,
        planned=planned,
        scored=n - errors,
        correct=correct,
        accuracy=correct / n if n else None,
        accuracy_ci_low=lo,
        accuracy_ci_high=hi,
        errors=errors,
        error_rate=errors / n if n else None,
        p50_ms=percentile(lat, 50),
        p95_ms=percentile(lat, 95),
        p99_ms=percentile(lat, 99),
        mean_ms=float(np.mean(lat)) if lat else None,
        ttft_p50_ms=percentile(ttft, 50),
        ttft_p95_ms=percentile(ttft, 95),
        cost_usd=cost,
        cost_per_1k=(cost / len(costed) * 1000) if cost is not None else None,
        cost_source="+".join(sources) or None,
        cache_hits=hits,
        cache_hit_rate=hits / len(with_cache) if with_cache else None,
        prompt_tokens=p_tok,
        completion_tokens=c_tok,
        tokens_per_request=(p_tok + c_tok) / n if n else None,
        **_grounding(rows),
    )


def _grounding(rows: Sequence[RowResult]) -> dict[str, float | None]:
    checks = [c for r in rows if not r.error for c in r.checks if c.type == "grounded"]
    if not checks:
        return {"groundedness": None, "hallucination_rate": None}
    return {
        "groundedness": sum(c.value for c in checks) / len(checks),
        "hallucination_rate": sum(1 for c in checks if not c.passed) / len(checks),
    }
