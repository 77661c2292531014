"""Assemble the cache from settings: backends, semantic tier and the stage."""

from __future__ import annotations

import logging

from portico.cache.group_tier import AnswerGroupTier
from portico.cache.judge import SemanticJudge
from portico.cache.memory import MemoryExactStore, MemoryVectorStore
from portico.cache.protocols import Embedder, ExactStore, ScopeListing, VectorStore
from portico.cache.reader import PairReader, TokenEncoder
from portico.cache.semantic import SemanticCache
from portico.cache.settings import CacheSettings
from portico.cache.stage import CacheStage, PriceFn
from portico.cache.verifier import PairVerifier
from portico.errors import ConfigError

log = logging.getLogger(__name__)


def wants_semantic(settings: CacheSettings) -> bool:
    rules = [*settings.models.values(), *settings.keys.values()]
    return settings.semantic.enabled and (settings.tier == "semantic" or any(r.tier == "semantic" for r in rules))


def build_stores(settings: CacheSettings) -> tuple[ExactStore, VectorStore]:
    if settings.backend == "memory":
        return (
            MemoryExactStore(settings.max_entries),
            MemoryVectorStore(settings.semantic.max_entries, settings.semantic.ann_min_entries),
        )
    import redis.asyncio as aioredis

    from portico.cache.redis_backend import RedisExactStore, RedisVectorStore

    client = aioredis.Redis.from_url(settings.redis_url)
    return (
        RedisExactStore(client, settings.key_prefix, settings.max_entries),
        RedisVectorStore(client, settings.key_prefix, settings.semantic.max_entries, settings.semantic.ann_min_entries),
    )


def build_reader(settings: CacheSettings, embedder: Embedder) -> PairReader | None:
    """The pair reader when enabled; it needs token vectors, which the MiniLM embedder gives
    (an embedder without them, e.g. a test double, runs without the reader)."""
    s = settings.semantic
    if not (s.verifier and s.reader):
        return None
    if not isinstance(embedder, TokenEncoder):
        log.warning("cache: the pair reader is off: %s gives no token vectors", type(embedder).__name__)
        return None
    return PairReader(embedder)


def build_semantic(
    settings: CacheSettings,
    store: VectorStore,
    embedder: Embedder,
    verifier: PairVerifier | None = None,
    reader: PairReader | None = None,
) -> SemanticCache:
    groups = None
    if settings.semantic.mode == "answer_groups":
        if not isinstance(store, ScopeListing):
            raise ConfigError(
                f"cache.semantic.mode answer_groups needs a vector store that lists its entries; "
                f"{type(store).__name__} does not (use backend memory or redis)"
            )
        groups = AnswerGroupTier(settings.semantic.answer_groups, store)
    reader = reader or build_reader(settings, embedder)
    return SemanticCache(store, embedder, SemanticJudge(settings.semantic, verifier, reader), groups)


def build_cache_stage(
    settings: CacheSettings, embedder: Embedder | None = None, *, price: PriceFn | None = None
) -> CacheStage:
    """The stage for ``settings``; the semantic tier needs the shared embedder."""
    exact, vectors = build_stores(settings)
    semantic = None
    if wants_semantic(settings):
        if embedder is None:
            raise ConfigError("cache.semantic needs the embedder: pass the shared MiniLMEmbedder")
        semantic = build_semantic(settings, vectors, embedder)
    return CacheStage(settings, exact, semantic, price=price)
