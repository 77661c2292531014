"""Retrieval: the query -> lexical and/or dense hits from a VectorIndex -> fused chunk ranking.

The gateway's search endpoint, the file_search tool, ``portico rag search`` and
``portico rag eval`` all rank through ``Retriever.search``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from portico.rag.filters import Predicate
from portico.rag.fusion import convex_fusion, reciprocal_rank_fusion
from portico.rag.index.base import Hit, VectorIndex
from portico.rag.settings import Fusion, RagSettings, RetrievalMode
from portico.rag.text import lexical_tokens

Embed = Callable[[Sequence[str]], Awaitable[npt.NDArray[np.float32]]]


@dataclass(slots=True, frozen=True)
class FileResult:
    """Hits grouped by file, in order of each file's best chunk."""

    file_id: str
    score: float
    hits: tuple[Hit, ...]


class Retriever:
    def __init__(
        self,
        index: VectorIndex,
        embed: Embed,
        *,
        candidates: int = 100,
        fusion: Fusion = "convex",
        dense_weight: float = 0.5,
    ) -> None:
        self.index = index
        self.embed = embed
        self.candidates = candidates
        self.fusion = fusion
        self.dense_weight = dense_weight

    @classmethod
    def configured(cls, index: VectorIndex, embed: Embed, settings: RagSettings) -> Retriever:
        """The retriever as the gateway configures it (the CLI and benchmarks use this too)."""
        return cls(
            index, embed, candidates=settings.candidates, fusion=settings.fusion, dense_weight=settings.dense_weight
        )

    async def search(
        self, store_id: str, query: str, *, mode: RetrievalMode, k: int, where: Predicate | None = None
    ) -> list[Hit]:
        """The top ``k`` chunks. Scores in [0, 1]: cosine (dense), BM25 over the query's idf mass
        (bm25), their convex combination (hybrid; or with RRF fusion, the better of the two)."""
        depth = max(k, self.candidates)
        if mode == "bm25":
            return (await self.index.lexical(store_id, lexical_tokens(query), k, where))[:k]
        vector = (await self.embed([query]))[0]
        if mode == "dense":
            return (await self.index.dense(store_id, vector, k, where))[:k]
        lexical, dense = await asyncio.gather(
            self.index.lexical(store_id, lexical_tokens(query), depth, where),
            self.index.dense(store_id, vector, depth, where),
        )
        if self.fusion == "rrf":
            return reciprocal_rank_fusion([lexical, dense])[:k]
        return convex_fusion(lexical, dense, self.dense_weight)[:k]

    async def search_files(
        self,
        store_id: str,
        query: str,
        *,
        mode: RetrievalMode,
        k: int,
        where: Predicate | None = None,
        chunks_per_file: int = 3,
    ) -> list[FileResult]:
        """The top ``k`` files, each scored by its best chunk (max pooling over chunks)."""
        hits = await self.search(store_id, query, mode=mode, k=max(k * 4, self.candidates), where=where)
        return group_by_file(hits, k, chunks_per_file)


def group_by_file(hits: Sequence[Hit], k: int, chunks_per_file: int = 3) -> list[FileResult]:
    grouped: dict[str, list[Hit]] = {}
    for hit in hits:
        bucket = grouped.setdefault(hit.file_id, [])
        if len(bucket) < chunks_per_file:
            bucket.append(hit)
    return [FileResult(f, hs[0].score, tuple(hs)) for f, hs in list(grouped.items())[:k]]
