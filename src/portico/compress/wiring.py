"""Plug compression into a Gateway: after the cache, before the router; MiniLM attached at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.compress.settings import CompressionSettings
from portico.compress.stage import CompressionStage

if TYPE_CHECKING:
    from portico.gateway import Gateway


def install_compression(gateway: Gateway, settings: CompressionSettings | None = None) -> CompressionStage | None:
    """Nothing is installed unless compression is on for everything, some models or some keys."""
    cfg = settings if settings is not None else gateway.settings.compression
    if not cfg.installed:
        return None
    stage = CompressionStage(cfg, price_of=gateway.price_of, registry=gateway.metrics.registry)
    gateway.stages.append(stage)
    if cfg.embed and gateway.settings.embeddings.enabled:

        async def attach() -> None:
            embedder = await gateway.embedder()
            stage.attach_embedder(embedder.embed)

        gateway.on_start.append(attach)
    return stage
