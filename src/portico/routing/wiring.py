"""Plug routing into a Gateway: the RoutingStage after the stages already installed (put it
after the cache), route names as virtual models, the embedder attached at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.errors import ConfigError
from portico.routing.settings import RoutingSettings
from portico.routing.stage import RoutingStage

if TYPE_CHECKING:
    from portico.gateway import Gateway


def install_routing(gateway: Gateway, settings: RoutingSettings | None = None) -> RoutingStage | None:
    """Nothing is installed when no routes are configured."""
    routing = settings if settings is not None else gateway.settings.routing
    if not routing.routes:
        return None
    names = {r.name for r in routing.routes}
    clash = sorted(names & set(gateway.deployments))
    if clash:
        raise ConfigError(f"routing: route name(s) {clash} are also model names; rename the route(s)")
    known = set(gateway.deployments) | names
    unknown = sorted(routing.targets() - known)
    if unknown:
        raise ConfigError(f"routing: route(s) call unknown model(s) {unknown}; configured: {sorted(known)}")

    stage = RoutingStage(routing, call_model=gateway.caller.call, cost_of=gateway.price_of)
    gateway.stages.append(stage)
    gateway.virtual_models |= names

    async def attach() -> None:
        stage.attach_embedder(await gateway.embedder())

    if stage.waiting_for_embedder:  # routes that embed wait for the shared embedder
        gateway.on_start.append(attach)
    return stage
