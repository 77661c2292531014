"""Deployments: the concrete (provider, upstream model, price) behind a model name."""

from __future__ import annotations

from dataclasses import dataclass, field

from portico.config import ModelSettings, Price, Settings
from portico.providers import Provider, build_provider


@dataclass(slots=True)
class Deployment:
    id: str  # "<name>#<index>", unique per process
    name: str
    settings: ModelSettings
    provider: Provider
    in_flight: int = field(default=0)

    @property
    def price(self) -> Price:
        return self.settings.price

    @property
    def upstream_model(self) -> str:
        return self.settings.upstream_model


def build_deployments(settings: Settings) -> dict[str, list[Deployment]]:
    """One Deployment per ``models:`` entry, grouped by model name, in config order."""
    out: dict[str, list[Deployment]] = {}
    for model in settings.models:
        group = out.setdefault(model.name, [])
        group.append(Deployment(f"{model.name}#{len(group)}", model.name, model, build_provider(model)))
    return out
