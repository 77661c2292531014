"""Rank fusion of the lexical and dense result lists."""

from __future__ import annotations

from collections.abc import Sequence

from portico.rag.index.base import Hit

RRF_K = 60


def reciprocal_rank_fusion(
    lists: Sequence[Sequence[Hit]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[Hit]:
    """Chunks ranked by sum of weight / (k + rank); the score is scaled to [0, 1] (1 = first in every list)."""
    weights = list(weights) if weights is not None else [1.0] * len(lists)
    best = sum(w / (k + 1) for w in weights) or 1.0
    fused: dict[int, float] = {}
    first: dict[int, Hit] = {}
    for hits, weight in zip(lists, weights, strict=True):
        for rank, hit in enumerate(hits, start=1):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + weight / (k + rank)
            first.setdefault(hit.chunk_id, hit)
    order = sorted(fused, key=lambda c: -fused[c])
    return [_rescored(first[c], fused[c] / best) for c in order]


def _rescored(hit: Hit, score: float) -> Hit:
    return Hit(hit.chunk_id, hit.file_id, hit.position, hit.text, score, hit.attributes)
