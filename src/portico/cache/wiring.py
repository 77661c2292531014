"""Plug the cache into a Gateway: the CacheStage after the input guards and before the
router, prices from the deployments, the semantic tier attached once the embedder loads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.cache.factory import build_semantic, build_stores, wants_semantic
from portico.cache.settings import CacheSettings
from portico.cache.stage import CacheStage

if TYPE_CHECKING:
    from portico.gateway import Gateway


def install_cache(gateway: Gateway, settings: CacheSettings | None = None) -> CacheStage | None:
    """Append the CacheStage to ``gateway.stages`` (call before install_routing)."""
    cache = settings if settings is not None else gateway.settings.cache
    if not cache.enabled:
        return None
    exact, vectors = build_stores(cache)
    stage = CacheStage(cache, exact, None, price=gateway.price_of)
    gateway.stages.append(stage)

    async def attach() -> None:
        stage.attach_semantic(build_semantic(cache, vectors, await gateway.embedder()))

    if wants_semantic(cache):
        gateway.on_start.append(attach)
    gateway.on_stop.append(stage.aclose)
    return stage
