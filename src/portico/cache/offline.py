"""Judge (cached, query) pairs offline through the same CacheStage the gateway runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from portico.cache.factory import build_reader, build_semantic
from portico.cache.keys import current_turn, partition_of, semantic_scope
from portico.cache.memory import MemoryExactStore, MemoryVectorStore
from portico.cache.normalize import normalize_turn
from portico.cache.protocols import Embedder
from portico.cache.settings import CacheSettings
from portico.cache.stage import CacheStage
from portico.cache.verifier import PairVerifier
from portico.pipeline import Pipeline, Reply, RequestContext
from portico.types import ChatMessage, ChatRequest, ChatResponse, Choice, ResponseMessage


class MemoEmbedder:
    """Embeds every text of a batch once up front; then answers from the table."""

    def __init__(self, inner: Embedder, texts: Sequence[str]) -> None:
        unique = sorted(set(texts))
        vectors = inner.embed(unique) if unique else np.zeros((0, 384), dtype=np.float32)
        self._table = {t: vectors[i] for i, t in enumerate(unique)}
        self._inner = inner

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        missing = [t for t in texts if t not in self._table]
        if missing:
            for t, v in zip(missing, self._inner.embed(missing), strict=True):
                self._table[t] = v
        return np.stack([self._table[t] for t in texts])


def pair_request(turn: str, history: list[dict[str, Any]] | None, system: str | None, model: str) -> ChatRequest:
    messages: list[ChatMessage] = []
    if system:
        messages.append(ChatMessage(role="system", content=system))
    messages += [ChatMessage.model_validate(m) for m in history or []]
    messages.append(ChatMessage(role="user", content=turn))
    return ChatRequest(model=model, messages=messages, temperature=0)


async def _answer(ctx: RequestContext) -> Reply:
    return ChatResponse(model=ctx.model, choices=[Choice(message=ResponseMessage(content="cached answer"))])


async def judge_pairs(
    pairs: Iterable[dict[str, Any]], settings: CacheSettings, embedder: Embedder, verifier: PairVerifier | None = None
) -> list[dict[str, Any]]:
    """One verdict per pair: ``hit``, ``similarity``, ``veto`` (and ``tier``, ``score``)."""
    rows = list(pairs)
    texts = [normalize_turn(str(r[k])) for r in rows for k in ("cached", "query")]
    memo = MemoEmbedder(embedder, texts)
    # Judge the decision the cache would make when on, whether or not this config enables it.
    settings = settings.model_copy(update={"single_flight": False, "enabled": True})
    if settings.semantic.verifier and verifier is None:
        verifier = PairVerifier()
    reader = build_reader(settings, embedder)  # loaded once, shared by the per-pair stages
    out: list[dict[str, Any]] = []
    for row in rows:
        model = str(row.get("model", "default"))
        cached = pair_request(row["cached"], row.get("history_cached"), row.get("system_cached"), model)
        query = pair_request(row["query"], row.get("history_query"), row.get("system_query"), model)
        vectors = MemoryVectorStore(settings.semantic.max_entries, settings.semantic.ann_min_entries)
        stage = CacheStage(
            settings, MemoryExactStore(settings.max_entries), build_semantic(settings, vectors, memo, verifier, reader)
        )
        pipeline = Pipeline([stage], _answer)
        await pipeline(RequestContext(request_id=uuid.uuid4().hex, request=cached))
        ctx = RequestContext(request_id=uuid.uuid4().hex, request=query)
        await pipeline(ctx)
        out.append(_verdict(ctx, cached, query, settings))
    return out


def _verdict(ctx: RequestContext, cached: ChatRequest, query: ChatRequest, settings: CacheSettings) -> dict[str, Any]:
    info = ctx.state.get("cache", {})
    status = ctx.cache_status
    if status == "exact":
        return {"hit": True, "similarity": 1.0, "veto": None, "tier": "exact", "score": None}
    if status.startswith("semantic"):
        return {"hit": True, "similarity": round(info["similarity"], 4), "veto": None, "tier": "semantic",
                "score": _round(info.get("score"))}  # fmt: skip
    tenant = partition_of(ctx.caller, settings.partition)
    veto = info.get("veto")
    if status == "bypass" or current_turn(query) is None:
        veto = "not_cacheable"
    elif semantic_scope(cached, ctx.model, tenant) != semantic_scope(query, ctx.model, tenant):
        veto = "scope"  # other system prompt or earlier conversation: never compared
    similarity = info.get("nearest_similarity")
    return {
        "hit": False,
        "similarity": _round(similarity),
        "veto": veto,
        "tier": None,
        "score": _round(info.get("score")),
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)
