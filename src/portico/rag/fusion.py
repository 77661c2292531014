"""Rank fusion of the lexical and dense result lists."""

from __future__ import annotations

from collections.abc import Sequence

from portico.rag.index.base import Hit

RRF_K = 60


def reciprocal_rank_fusion(
    lists: Sequence[Sequence[Hit]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[Hit]:
    """Chunks ranked by the sum of weight / (k + rank). Ranks carry no absolute relevance, so
    each fused hit reports the best of its own scores in the lists that found it (cosine,
    normalised BM25: both in [0, 1]); a score threshold keeps its meaning in hybrid mode."""
    weights = list(weights) if weights is not None else [1.0] * len(lists)
    fused: dict[int, float] = {}
    first: dict[int, Hit] = {}
    best: dict[int, float] = {}
    for hits, weight in zip(lists, weights, strict=True):
        for rank, hit in enumerate(hits, start=1):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + weight / (k + rank)
            first.setdefault(hit.chunk_id, hit)
            best[hit.chunk_id] = max(best.get(hit.chunk_id, 0.0), min(1.0, max(0.0, hit.score)))
    order = sorted(fused, key=lambda c: -fused[c])
    return [_rescored(first[c], best[c]) for c in order]


def _rescored(hit: Hit, score: float) -> Hit:
    return Hit(hit.chunk_id, hit.file_id, hit.position, hit.text, score, hit.attributes)
