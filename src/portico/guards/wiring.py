"""The guards as a feature: the GuardStage after admission and before the cache, its models
sharing the gateway's embedder and loaded at start-up, not on the first request."""

from __future__ import annotations

import asyncio

from portico.feature import Feature, Hook
from portico.guards.runtime import EmbedderSource, GuardRuntime
from portico.guards.settings import GuardSettings
from portico.guards.stage import GuardStage


def guards_feature(
    settings: GuardSettings, runtime: GuardRuntime | None = None, embedder: EmbedderSource | None = None
) -> Feature | None:
    """None when the guards are off. ``runtime`` lets several gateways in one process (tests)
    share the loaded models. ``embedder`` is the gateway's (``Gateway.embedder``): when an
    injection or content guard is configured it is awaited at start and attached to the
    runtime, so the cascades' second stages run on the gateway's one MiniLM session."""
    if not settings.enabled:
        return None
    runtime = runtime or GuardRuntime(ner=settings.pii_ner)
    stage = GuardStage(settings, runtime)
    policies = [settings.default, *settings.keys.values(), *settings.teams.values(), *settings.models.values()]
    types = {spec.type for policy in policies for spec in [*policy.input, *policy.output]}

    async def warm_up() -> None:
        if embedder is not None and types & {"injection", "content"}:
            runtime.attach_embedder(await embedder())
        await asyncio.to_thread(stage.warm_up)

    on_start: tuple[Hook, ...] = (warm_up,) if types else ()
    return Feature("guards", stages=(stage,), on_start=on_start)
