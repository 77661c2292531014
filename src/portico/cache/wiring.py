"""The cache as a feature: the CacheStage after the input guards and before the router,
prices from the deployments, the semantic tier attached once the embedder loads, and
``/admin/cache`` (warming)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from portico.cache.admin import cache_router
from portico.cache.factory import build_semantic, build_stores, wants_semantic
from portico.cache.settings import CacheSettings
from portico.cache.stage import CacheStage
from portico.embeddings import MiniLMEmbedder
from portico.feature import Access, Feature, Hook, Mount
from portico.types import Usage


def cache_feature(
    settings: CacheSettings,
    *,
    price: Callable[[str, Usage], float],
    embedder: Callable[[], Awaitable[MiniLMEmbedder]],
) -> Feature | None:
    """None when the cache is off. ``embedder`` is awaited at start when a semantic tier is on."""
    if not settings.enabled:
        return None
    exact, vectors = build_stores(settings)
    stage = CacheStage(settings, exact, None, price=price)

    async def attach() -> None:
        stage.attach_semantic(build_semantic(settings, vectors, await embedder()))

    on_start: tuple[Hook, ...] = (attach,) if wants_semantic(settings) else ()
    mounts = (Mount(cache_router(stage), Access.ADMIN),)
    return Feature("cache", stages=(stage,), mounts=mounts, on_start=on_start, on_stop=(stage.aclose,))
