"""Compression as a feature: after the cache, before the router; MiniLM attached at start."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry

from portico.compress.settings import CompressionSettings
from portico.compress.stage import CompressionStage
from portico.embeddings import MiniLMEmbedder
from portico.feature import Feature, Hook
from portico.types import Usage


def compression_feature(
    settings: CompressionSettings,
    *,
    price: Callable[[str, Usage], float],
    registry: CollectorRegistry,
    embedder: Callable[[], Awaitable[MiniLMEmbedder]] | None,
) -> Feature | None:
    """None unless compression is on for everything, some models or some keys. ``embedder`` is
    None when the gateway's embedder is off."""
    if not settings.installed:
        return None
    stage = CompressionStage(settings, price_of=price, registry=registry)
    on_start: tuple[Hook, ...] = ()
    if settings.embed and embedder is not None:
        load = embedder

        async def attach() -> None:
            stage.attach_embedder((await load()).embed)

        on_start = (attach,)
    return Feature("compression", stages=(stage,), on_start=on_start)
