"""The ``resilience:`` config section: balancing, retries, breakers, hedging and fallbacks.

``defaults`` applies to every model; ``models.<name>`` overrides only the keys it sets::

    resilience:
      defaults: {routing_strategy: latency, retry: {max_attempts: 3}}
      models:
        gpt-4o: {fallbacks: [gpt-4o-mini, local], on_context_window: [claude-long]}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RoutingStrategy = Literal["weighted", "least_busy", "latency", "priority"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetrySettings(_Section):
    """Retries of retryable failures (connection errors, 408/429/5xx, timeouts before the first byte)."""

    enabled: bool = True
    max_attempts: int = Field(default=3, ge=1, le=20, description="attempts per model, over all its deployments")
    base_delay: float = Field(default=0.05, ge=0, description="seconds; backoff = uniform(0, base * 2^n)")
    max_delay: float = Field(default=2.0, ge=0)
    max_retry_after: float = Field(
        default=10.0, ge=0, description="a Retry-After longer than this is not waited for: fall back instead"
    )
    deadline: float | None = Field(
        default=None,
        gt=0,
        description="seconds for all attempts and fallbacks together; default: the model's longest timeout.total",
    )


class BreakerSettings(_Section):
    """Per-deployment circuit breaker: opens on the failure rate over a sliding window."""

    enabled: bool = True
    window: float = Field(default=30.0, gt=0, description="seconds of history")
    # 20, not 10: a deployment failing 25 % of the time shows >= 50 % in 10 samples about 8 % of the
    # time, which would bench a usable deployment; with 20 samples that drops to ~1.5 %.
    min_requests: int = Field(default=20, ge=1, description="no verdict below this many outcomes in the window")
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    open_for: float = Field(default=10.0, gt=0, description="seconds open before probing")
    probes: int = Field(default=1, ge=1, description="concurrent probe requests while half-open")
    close_after: int = Field(default=1, ge=1, description="successful probes that close the circuit")


class HedgeSettings(_Section):
    """Send a second request to another deployment when the first is slow to its first token."""

    enabled: bool = False
    after: float = Field(default=1.0, gt=0, description="seconds without a first token before hedging")


class ModelPolicy(_Section):
    routing_strategy: RoutingStrategy = "weighted"
    retry: RetrySettings = Field(default_factory=RetrySettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    hedge: HedgeSettings = Field(default_factory=HedgeSettings)
    fallbacks: list[str] = Field(default_factory=list, description="models tried in order when this one fails")
    on_context_window: list[str] = Field(default_factory=list, description="when the prompt is too long")
    on_content_policy: list[str] = Field(default_factory=list, description="when the upstream refuses the content")
    on_rate_limited: list[str] = Field(
        default_factory=list, description="when every deployment is rate limited (else `fallbacks`)"
    )


class SharedStateSettings(_Section):
    """Share circuit-breaker transitions between replicas (per-request counters stay local)."""

    backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "portico:breaker"
    sync_interval: float = Field(default=1.0, gt=0, description="seconds between reads of the shared state")


class ResilienceSettings(_Section):
    enabled: bool = Field(default=True, description="false: one attempt, no breaker, no fallback (baseline)")
    defaults: ModelPolicy = Field(default_factory=ModelPolicy)
    models: dict[str, ModelPolicy] = Field(default_factory=dict)
    shared: SharedStateSettings = Field(default_factory=SharedStateSettings)

    def policy(self, model: str) -> ModelPolicy:
        """``defaults`` with the keys set under ``models.<model>`` laid over (nested sections merge too)."""
        override = self.models.get(model)
        if override is None:
            return self.defaults
        return _merge(self.defaults, override)


def _merge(base: _Section, over: _Section) -> ModelPolicy:
    data = base.model_dump()
    _overlay(data, over)
    return ModelPolicy.model_validate(data)


def _overlay(data: dict[str, object], over: BaseModel) -> None:
    for key in over.model_fields_set:
        value = getattr(over, key)
        if isinstance(value, BaseModel) and isinstance(data.get(key), dict):
            sub = data[key]
            assert isinstance(sub, dict)
            _overlay(sub, value)
        else:
            data[key] = value.model_dump() if isinstance(value, BaseModel) else value
