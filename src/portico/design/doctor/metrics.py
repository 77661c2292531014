"""A parsed Prometheus text exposition of the gateway's ``/metrics`` and the figures the
doctor derives from it (cumulative since the gateway started)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from portico.errors import InvalidRequest

Sample = tuple[str, dict[str, str], float]


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    samples: tuple[Sample, ...]

    def total(self, name: str, **match: str) -> float:
        """Sum of every sample called ``name`` whose labels include ``match``."""
        return sum(
            v for n, labels, v in self.samples if n == name and all(labels.get(k) == x for k, x in match.items())
        )

    def has(self, name: str) -> bool:
        return any(n == name for n, _, _ in self.samples)

    def by_label(self, name: str, label: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for n, labels, v in self.samples:
            if n == name and label in labels:
                out[labels[label]] += v
        return dict(out)

    def histogram_mean(self, base: str) -> float | None:
        count = self.total(f"{base}_count")
        return self.total(f"{base}_sum") / count if count > 0 else None

    def histogram_quantile(self, q: float, base: str) -> float | None:
        """Prometheus' histogram_quantile over all series of ``base`` (linear within a bucket)."""
        buckets: dict[float, float] = defaultdict(float)
        for n, labels, v in self.samples:
            if n == f"{base}_bucket" and "le" in labels:
                buckets[float(labels["le"])] += v
        if not buckets:
            return None
        bounds = sorted(buckets)
        total = buckets[bounds[-1]]
        if total <= 0:
            return None
        rank = q * total
        prev_bound, prev_count = 0.0, 0.0
        for b in bounds:
            count = buckets[b]
            if count >= rank:
                if math.isinf(b):
                    return prev_bound  # as Prometheus: the highest finite bound
                if count == prev_count:
                    return b
                return prev_bound + (b - prev_bound) * (rank - prev_count) / (count - prev_count)
            prev_bound, prev_count = b, count
        return prev_bound


def parse_metrics(text: str) -> MetricsSnapshot:
    try:
        samples = [
            (s.name, dict(s.labels), float(s.value))
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"not Prometheus text exposition: {exc}") from None
    return MetricsSnapshot(tuple(samples))
