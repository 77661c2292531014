"""Prometheus metrics, one registry per app (no global state). Names use the ``portico_`` prefix."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_OVERHEAD = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


class Metrics:
    """Every metric the gateway exports. Other parts register theirs on ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "portico_requests", "Requests answered, by model and HTTP status.", ["model", "status"], registry=r
        )
        self.request_duration = Histogram(
            "portico_request_duration_seconds", "Total request latency.", ["model"], buckets=_LATENCY, registry=r
        )
        self.upstream_duration = Histogram(
            "portico_upstream_duration_seconds",
            "Time spent waiting on the provider.",
            ["model"],
            buckets=_LATENCY,
            registry=r,
        )
        self.ttft = Histogram(
            "portico_time_to_first_token_seconds",
            "Time to first streamed token.",
            ["model"],
            buckets=_LATENCY,
            registry=r,
        )
        self.overhead = Histogram(
            "portico_gateway_overhead_seconds", "Time spent in Portico itself.", buckets=_OVERHEAD, registry=r
        )
        self.tokens = Counter(
            "portico_tokens", "Tokens by model and direction (input|output).", ["model", "direction"], registry=r
        )
        self.cost = Counter("portico_cost_usd", "Cost in USD by model.", ["model"], registry=r)
        self.in_flight = Gauge("portico_requests_in_flight", "Requests being processed.", registry=r)
        self.cache_lookups = Counter(
            "portico_cache_lookups",
            "Cache lookups by tier (exact, semantic) and result (hit, miss).",
            ["tier", "result"],
            registry=r,
        )
        self.cache_saved = Counter("portico_cache_saved_usd", "Upstream cost avoided by cache hits.", registry=r)
        self.guard_verdicts = Counter(
            "portico_guard_verdicts",
            "Guard verdicts by guard and action (block marks a safety event).",
            ["guard", "action"],
            registry=r,
        )
        self.upstream_errors = Counter(
            "portico_upstream_errors", "Upstream failures by model and kind.", ["model", "kind"], registry=r
        )

    def observe_cache(self, status: str, consulted_semantic: bool, saved_usd: float) -> None:
        """Count one request's cache lookups: every lookup tries exact first, then semantic."""
        if status == "exact":
            self.cache_lookups.labels("exact", "hit").inc()
        elif status.startswith("semantic"):
            self.cache_lookups.labels("exact", "miss").inc()
            self.cache_lookups.labels("semantic", "hit").inc()
        elif status == "miss":
            self.cache_lookups.labels("exact", "miss").inc()
            if consulted_semantic:
                self.cache_lookups.labels("semantic", "miss").inc()
        if saved_usd:
            self.cache_saved.inc(saved_usd)

    def render(self) -> bytes:
        return generate_latest(self.registry)
