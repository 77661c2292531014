"""The semantic tier: embed the current user turn, search its scope, let the judge decide
(or, in ``answer_groups`` mode, the scope's group model first)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from portico.cache.group_tier import AnswerGroupTier
from portico.cache.judge import Decision, SemanticJudge
from portico.cache.protocols import Candidate, Embedder, SemanticEntry, Vector, VectorStore


@dataclass(frozen=True, slots=True)
class SemanticLookup:
    """The outcome: ``hit`` is the served candidate; ``nearest`` is logged on every lookup.
    ``alternates``: entry keys with the same answer as ``hit``, tried if its answer is gone."""

    vector: Vector
    hit: Candidate | None
    decision: Decision | None  # of the hit, else of the nearest candidate
    alternates: tuple[str, ...] = ()

    @property
    def nearest_similarity(self) -> float | None:
        return None if self.decision is None else self.decision.similarity


class SemanticCache:
    def __init__(
        self, store: VectorStore, embedder: Embedder, judge: SemanticJudge, groups: AnswerGroupTier | None = None
    ) -> None:
        self.store = store
        self.judge = judge
        self.groups = groups
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
        top_k = self.judge.settings.top_k
        if self.groups is None:
            candidates = await self.store.search(scope, vector, top_k)
            return await self._judge(text, vector, candidates, None, verifier_threshold)
        candidates = await self.store.search(scope, vector, max(top_k, self.groups.settings.neighbours))
        verdict = self.groups.decide(scope, vector, candidates)
        if verdict is None:  # no model for this scope yet
            return await self._judge(text, vector, candidates[:top_k], None, verifier_threshold)
        nearest = candidates[0].similarity if candidates else 0.0
        if verdict.served:
            best = verdict.served[0]
            decision = Decision(True, best.similarity, None, verdict.confidence)
            return SemanticLookup(vector, best, decision, tuple(c.entry_key for c in verdict.served[1:]))
        # Groups the model serves are its decision alone; one-off answers keep the pairwise judge.
        rest = [c for c in candidates if c.group not in verdict.model.servable][:top_k]
        declined = Decision(False, nearest, verdict.reason, verdict.confidence)
        return await self._judge(text, vector, rest, declined, verifier_threshold)

    async def _judge(
        self,
        text: str,
        vector: Vector,
        candidates: list[Candidate],
        first: Decision | None,
        verifier_threshold: float | None,
    ) -> SemanticLookup:
        # The reader may run MiniLM (milliseconds of CPU): then off the event loop, like embed.
        if self.judge.reader is not None and candidates:
            return await asyncio.to_thread(self._judge_pairs, text, vector, candidates, first, verifier_threshold)
        return self._judge_pairs(text, vector, candidates, first, verifier_threshold)

    def _judge_pairs(
        self,
        text: str,
        vector: Vector,
        candidates: list[Candidate],
        first: Decision | None,
        verifier_threshold: float | None,
    ) -> SemanticLookup:
        for cand in candidates:
            decision = self.judge.decide(text, cand.text, vector, cand.vector, verifier_threshold=verifier_threshold)
            if decision.hit:
                return SemanticLookup(vector, cand, decision)
            first = first or decision
        return SemanticLookup(vector, None, first)

    async def add(
        self, scope: str, text: str, vector: Vector, entry_key: str, ttl_seconds: float, group: str = ""
    ) -> None:
        entry = SemanticEntry(
            entry_key=entry_key, text=text, vector=vector, expires_at=time.time() + ttl_seconds, group=group
        )
        await self.store.add(scope, entry)
        if self.groups is not None:
            await self.groups.note_added(scope)

    async def aclose(self) -> None:
        if self.groups is not None:
            await self.groups.aclose()
        await self.store.aclose()
