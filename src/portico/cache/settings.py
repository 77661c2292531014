"""Typed configuration of the response cache (the ``cache:`` section of portico.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["off", "exact", "semantic"]
Partition = Literal["key", "team", "global"]
SemanticMode = Literal["pairwise", "answer_groups"]
VetoName = Literal["number", "negation", "entity", "direction", "qualifier", "polarity", "reference"]
ALL_VETOES: tuple[VetoName, ...] = ("number", "negation", "entity", "direction", "qualifier", "polarity", "reference")

# Picked on the tune part of the QQP calibration split (bench/train_cache_verifier.py): about
# 12% of duplicates served with ~5% wrong hits by QQP's noisy labels (docs/cache.md).
DEFAULT_VERIFIER_THRESHOLD = 0.96


class CacheRule(BaseModel):
    """Per model or per key overrides; unset fields fall back to the section's values."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    tier: Tier | None = None
    verifier_threshold: float | None = Field(default=None, ge=0, le=1)
    ttl_seconds: float | None = Field(default=None, gt=0)
    cache_sampled: bool | None = None


class AnswerGroupSettings(BaseModel):
    """``semantic.mode: answer_groups``: an FAQ's many questions per answer (docs/cache.md).
    Defaults chosen on Banking77's training queries only (bench/cache_workload.py)."""

    model_config = ConfigDict(extra="forbid")

    # Wrong answers the calibration allows among held-out stored questions it would serve.
    max_wrong_rate: float = Field(default=0.01, gt=0, lt=0.5)
    # A scope gets a group model from this many stored questions on; below, the pairwise judge.
    min_entries: int = Field(default=200, ge=10)
    # Only groups with this many stored questions are served by the model (the rest: pairwise).
    min_group_entries: int = Field(default=5, ge=2)
    # A group is served only if one of its questions is among this many nearest ones ...
    neighbours: int = Field(default=8, ge=1, le=64)
    # ... at this cosine or above (a guard for questions far from everything stored).
    min_similarity: float = Field(default=0.5, ge=0, le=1)
    # Refit (in the background) once the scope's size moved by this share since the last fit.
    refit_growth: float = Field(default=0.1, gt=0)
    folds: int = Field(default=5, ge=2, le=20)
    regularization: float = Field(default=30.0, gt=0)  # C of the logistic regression
    # Larger scopes are fitted on a fixed-seed sample of this size (fit time grows linearly).
    max_fit_entries: int = Field(default=20_000, ge=100)
    max_scopes: int = Field(default=64, ge=1)  # fitted models kept in memory (LRU)


class SemanticSettings(BaseModel):
    """The second tier: similar (not identical) current user turns in the same scope."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # pairwise: each candidate judged on its own (open-ended traffic). answer_groups: questions
    # that share a stored answer are decided together by a model fitted on the cache's entries.
    mode: SemanticMode = "pairwise"
    answer_groups: AnswerGroupSettings = Field(default_factory=AnswerGroupSettings)
    # Candidates below this cosine are never considered (cheap pre-filter before the verifier).
    min_similarity: float = Field(default=0.8, ge=0, le=1)
    # Without the verifier a candidate is served from this cosine on.
    threshold: float = Field(default=0.95, ge=0, le=1)
    verifier: bool = True
    # Experimental, off: pairs the verifier is unsure of get a second, token-level look
    # (portico.cache.reader; a MiniLM pass per new text). Measured no better than the verifier
    # alone (docs/cache.md, "A token-level reader"), so not on by default.
    reader: bool = False
    verifier_threshold: float = Field(default=DEFAULT_VERIFIER_THRESHOLD, ge=0, le=1)
    vetoes: list[VetoName] = Field(default_factory=lambda: list(ALL_VETOES))
    top_k: int = Field(default=4, ge=1, le=64)
    # Scopes at or above this size switch from exact numpy search to a usearch HNSW index.
    ann_min_entries: int = Field(default=2048, ge=1)
    max_entries: int = Field(default=100_000, ge=1)


class CacheSettings(BaseModel):
    """Exact and semantic response caching; see docs/cache.md. Off unless enabled: a cache
    changes what clients get (a stored answer), so it is an explicit choice."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    tier: Tier = "semantic"  # "semantic" means exact first, then semantic
    backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "portico:cache:"
    partition: Partition = "key"
    ttl_seconds: float = Field(default=3600.0, gt=0)
    max_entries: int = Field(default=10_000, ge=1)
    # Sampled answers (temperature > 0 or unset) differ per call; caching them is an opt-in.
    cache_sampled: bool = False
    cache_multiple_choices: bool = False
    single_flight: bool = True
    single_flight_timeout_seconds: float = Field(default=120.0, gt=0)
    semantic: SemanticSettings = Field(default_factory=SemanticSettings)
    models: dict[str, CacheRule] = Field(default_factory=dict)
    keys: dict[str, CacheRule] = Field(default_factory=dict)
