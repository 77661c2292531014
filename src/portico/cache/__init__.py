"""Exact and semantic response caching, correct by construction (see docs/cache.md)."""

from portico.cache.factory import build_cache_stage, build_semantic, build_stores
from portico.cache.judge import Decision, SemanticJudge
from portico.cache.keys import exact_key, partition_of, semantic_scope
from portico.cache.memory import MemoryExactStore, MemoryVectorStore
from portico.cache.protocols import CacheUnavailable, Candidate, ExactStore, SemanticEntry, VectorStore
from portico.cache.semantic import SemanticCache, SemanticLookup
from portico.cache.settings import CacheRule, CacheSettings, SemanticSettings
from portico.cache.stage import CacheStage, PriceFn
from portico.cache.verifier import PairVerifier

__all__ = [
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
