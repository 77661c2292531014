"""Resilience metrics: attempts and fallbacks counters, and circuit states read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from portico.resilience.breaker import CircuitState

StateSource = Callable[[], Iterable[tuple[str, str, CircuitState]]]


class CircuitCollector(Collector):
    """``portico_circuit_state{deployment,model}``: 0 closed, 1 half-open, 2 open (computed when scraped,
    so an open circuit whose time is up shows as half-open without any request touching it)."""

    def __init__(self, source: StateSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "portico_circuit_state",
            "Circuit breaker state per deployment (0 closed, 1 half-open, 2 open).",
            labels=["deployment", "model"],
        )
        for deployment, model, state in self._source():
            gauge.add_metric([deployment, model], float(state))
        yield gauge


class Telemetry:
    """Counters on the gateway's registry (or nowhere, when ``registry`` is None)."""

    def __init__(self, registry: CollectorRegistry | None, source: StateSource) -> None:
        self._attempts: Counter | None = None
        self._fallbacks: Counter | None = None
        self._children: dict[tuple[str, str], Counter] = {}  # labelled children, cached: labels() costs µs
        if registry is not None:
            self._attempts = Counter(
                "portico_attempts",
                "Upstream attempts by model and outcome.",
                ["model", "outcome"],
                registry=registry,
            )
            self._fallbacks = Counter(
                "portico_fallbacks",
                "Fallbacks from one model to another.",
                ["model", "to", "reason"],
                registry=registry,
            )
            registry.register(CircuitCollector(source))

    def attempt(self, model: str, outcome: str) -> None:
        if self._attempts is None:
            return
        key = (model, outcome)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._attempts.labels(model, outcome)
        child.inc()

    def fallback(self, model: str, to: str, reason: str) -> None:
        if self._fallbacks is not None:
            self._fallbacks.labels(model, to, reason).inc()
