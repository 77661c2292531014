"""Routing as a feature: the RoutingStage after the cache, route names as virtual models, the
embedder attached at start."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from portico.embeddings import MiniLMEmbedder
from portico.errors import ConfigError
from portico.feature import Feature, Hook
from portico.routing.route import ModelCaller
from portico.routing.settings import RoutingSettings
from portico.routing.stage import RoutingStage
from portico.types import Usage


def routing_feature(
    settings: RoutingSettings,
    *,
    models: Collection[str],
    call_model: ModelCaller,
    price: Callable[[str, Usage], float],
    embedder: Callable[[], Awaitable[MiniLMEmbedder]],
) -> Feature | None:
    """None when no routes are configured; ``models`` are the deployments' names."""
    if not settings.routes:
        return None
    names = {r.name for r in settings.routes}
    clash = sorted(names & set(models))
    if clash:
        raise ConfigError(f"routing: route name(s) {clash} are also model names; rename the route(s)")
    known = set(models) | names
    unknown = sorted(settings.targets() - known)
    if unknown:
        raise ConfigError(f"routing: route(s) call unknown model(s) {unknown}; configured: {sorted(known)}")
    stage = RoutingStage(settings, call_model=call_model, cost_of=price)

    async def attach() -> None:
        stage.attach_embedder(await embedder())

    on_start: tuple[Hook, ...] = (attach,) if stage.waiting_for_embedder else ()  # routes that embed
    return Feature("routing", stages=(stage,), on_start=on_start, virtual_models=frozenset(names))
