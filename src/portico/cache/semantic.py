"""The semantic tier: embed the current user turn, search its scope, let the judge decide."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from portico.cache.judge import Decision, SemanticJudge
from portico.cache.protocols import Candidate, Embedder, SemanticEntry, Vector, VectorStore


@dataclass(frozen=True, slots=True)
class SemanticLookup:
    """The outcome: ``hit`` is the served candidate; ``nearest`` is logged on every lookup."""

    vector: Vector
    hit: Candidate | None
    decision: Decision | None  # of the hit, else of the nearest candidate

    @property
    def nearest_similarity(self) -> float | None:
        return None if self.decision is None else self.decision.similarity


class SemanticCache:
    def __init__(self, store: VectorStore, embedder: Embedder, judge: SemanticJudge) -> None:
        self.store = store
        self.judge = judge
        self._embedder = embedder

    async def embed(self, text: str) -> Vector:
        # ~4 ms of CPU: off the event loop so other requests keep flowing.
        vectors = await asyncio.to_thread(self._embedder.embed, [text])
        row: Vector = vectors[0]
        return row

    async def lookup(
        self, scope: str, text: str, *, vector: Vector | None = None, verifier_threshold: float | None = None
    ) -> SemanticLookup:
        if vector is None:
            vector = await self.embed(text)
        candidates = await self.store.search(scope, vector, self.judge.settings.top_k)
        first: Decision | None = None
        for cand in candidates:
            decision = self.judge.decide(text, cand.text, vector, cand.vector, verifier_threshold=verifier_threshold)
            if decision.hit:
                return SemanticLookup(vector, cand, decision)
            first = first or decision
        return SemanticLookup(vector, None, first)

    async def add(self, scope: str, text: str, vector: Vector, entry_key: str, ttl_seconds: float) -> None:
        entry = SemanticEntry(entry_key=entry_key, text=text, vector=vector, expires_at=time.time() + ttl_seconds)
        await self.store.add(scope, entry)
