"""Exact and semantic response caching, correct by construction (see docs/cache.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.cache.factory import build_cache_stage, build_semantic, build_stores
    from portico.cache.group_tier import AnswerGroupTier
    from portico.cache.judge import Decision, SemanticJudge
    from portico.cache.keys import exact_key, partition_of, semantic_scope
    from portico.cache.memory import MemoryExactStore, MemoryVectorStore
    from portico.cache.protocols import CacheUnavailable, Candidate, ExactStore, SemanticEntry, VectorStore
    from portico.cache.semantic import SemanticCache, SemanticLookup
    from portico.cache.settings import AnswerGroupSettings, CacheRule, CacheSettings, SemanticSettings
    from portico.cache.stage import CacheStage, PriceFn
    from portico.cache.verifier import PairVerifier

_HOMES = {
    "AnswerGroupSettings": "settings",
    "AnswerGroupTier": "group_tier",
    "CacheRule": "settings",
    "CacheSettings": "settings",
    "CacheStage": "stage",
    "CacheUnavailable": "protocols",
    "Candidate": "protocols",
    "Decision": "judge",
    "ExactStore": "protocols",
    "MemoryExactStore": "memory",
    "MemoryVectorStore": "memory",
    "PairVerifier": "verifier",
    "PriceFn": "stage",
    "SemanticCache": "semantic",
    "SemanticEntry": "protocols",
    "SemanticJudge": "judge",
    "SemanticLookup": "semantic",
    "SemanticSettings": "settings",
    "VectorStore": "protocols",
    "build_cache_stage": "factory",
    "build_semantic": "factory",
    "build_stores": "factory",
    "exact_key": "keys",
    "partition_of": "keys",
    "semantic_scope": "keys",
}
__all__ = [
    "AnswerGroupSettings",
    "AnswerGroupTier",
    "CacheRule",
    "CacheSettings",
    "CacheStage",
    "CacheUnavailable",
    "Candidate",
    "Decision",
    "ExactStore",
    "MemoryExactStore",
    "MemoryVectorStore",
    "PairVerifier",
    "PriceFn",
    "SemanticCache",
    "SemanticEntry",
    "SemanticJudge",
    "SemanticLookup",
    "SemanticSettings",
    "VectorStore",
    "build_cache_stage",
    "build_semantic",
    "build_stores",
    "exact_key",
    "partition_of",
    "semantic_scope",
]
__getattr__ = lazy_exports(__name__, _HOMES)
