"""Deployments: the concrete (provider, upstream model, price) behind a model name, and their live state."""

from __future__ import annotations

from dataclasses import dataclass, field

from portico.config import ModelSettings, Price, Settings
from portico.limits.prices import ModelPrice, PriceCatalog
from portico.providers import Provider, build_provider
from portico.resilience.breaker import CircuitBreaker
from portico.resilience.capacity import MinuteCounter

_EWMA_ALPHA = 0.3


@dataclass(slots=True)
class Deployment:
    id: str  # "<name>#<index>", unique per process
    name: str
    settings: ModelSettings
    provider: Provider
    in_flight: int = field(default=0)
    latency: float = 0.0  # EWMA of seconds to the first token (or the whole answer); 0 = no sample yet
    cooldown_until: float = 0.0  # skipped until then (a 429's Retry-After), monotonic clock
    breaker: CircuitBreaker | None = field(default=None, repr=False)
    # The entry's own price, else the catalog's for its name (the dated defaults by name or
    # upstream model), so that settlement and the ledger price a request alike. Set once.
    price: Price | ModelPrice = field(init=False, repr=False)
    rpm: MinuteCounter = field(init=False, repr=False)
    tpm: MinuteCounter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.price = self.settings.price
        self.rpm = MinuteCounter(self.settings.rpm)
        self.tpm = MinuteCounter(self.settings.tpm)

    @property
    def upstream_model(self) -> str:
        return self.settings.upstream_model

    @property
    def weight(self) -> float:
        return self.settings.weight

    def observe_latency(self, seconds: float) -> None:
        self.latency = seconds if self.latency == 0.0 else self.latency + _EWMA_ALPHA * (seconds - self.latency)

    def usable(self, now: float) -> bool:
        """Not cooling down, not at its rpm/tpm capacity, and its circuit lets a request through."""
        if self.cooldown_until > now:
            return False
        if self.rpm.limit is not None and self.rpm.full(now):
            return False
        if self.tpm.limit is not None and self.tpm.full(now):
            return False
        return self.breaker is None or self.breaker.available()


def build_deployments(settings: Settings, prices: PriceCatalog | None = None) -> dict[str, list[Deployment]]:
    """One Deployment per ``models:`` entry, grouped by model name, in config order; entries
    without a ``price`` take ``prices``' price for their name."""
    out: dict[str, list[Deployment]] = {}
    for model in settings.models:
        group = out.setdefault(model.name, [])
        d = Deployment(f"{model.name}#{len(group)}", model.name, model, build_provider(model))
        if prices is not None and "price" not in model.model_fields_set:
            d.price = prices.price(model.name)
        group.append(d)
    return out
