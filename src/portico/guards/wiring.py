"""Plug the guards into a Gateway: the GuardStage after admission and before the cache, its
models sharing the gateway's embedder and loaded at start-up, not on the first request."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from portico.guards.runtime import GuardRuntime
from portico.guards.settings import GuardSettings
from portico.guards.stage import GuardStage

if TYPE_CHECKING:
    from portico.gateway import Gateway


def install_guards(
    gateway: Gateway, settings: GuardSettings | None = None, runtime: GuardRuntime | None = None
) -> GuardStage | None:
    """Append the GuardStage to ``gateway.stages`` (call before install_cache). ``runtime``
    lets several gateways in one process (tests) share the loaded models."""
    guards = settings if settings is not None else gateway.settings.guards
    if not guards.enabled:
        return None
    runtime = runtime or GuardRuntime(ner=guards.pii_ner)
    stage = GuardStage(guards, runtime)
    gateway.stages.append(stage)

    policies = [guards.default, *guards.keys.values(), *guards.teams.values(), *guards.models.values()]
    types = {spec.type for policy in policies for spec in [*policy.input, *policy.output]}

    async def attach() -> None:
        await asyncio.to_thread(stage.warm_up)

    if types:
        gateway.on_start.append(attach)
    return stage
