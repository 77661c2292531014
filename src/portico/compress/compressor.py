"""Query-aware extractive compression: keep the units that best answer the question.

Scoring is lexical first (BM25 of each unit against the question, plus a share of its best
neighbour's score, because an answer often sits one sentence after the sentence that names
the subject). Embedding similarity with the local MiniLM is consulted only where it pays:
when the question shares too few words with the text for BM25 to rank it, and then only
for the units around the cut-off, whose order decides what survives. Embedding every
sentence costs ~2 ms each on one core, a hundred times the lexical pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from portico.compress.bm25 import bm25_scores
from portico.compress.segment import Segment, split
from portico.compress.terms import pieces

Embed = Callable[[Sequence[str]], npt.NDArray[np.float32]]


@dataclass(slots=True, frozen=True)
class Compressed:
    text: str
    original_tokens: int
    kept_tokens: int
    units: int
    units_kept: int
    embedded: int = 0  # units scored with embeddings (0: lexical only)

    @property
    def ratio(self) -> float:
        """Kept share of the original tokens (0.5 = compressed 2x)."""
        return self.kept_tokens / self.original_tokens if self.original_tokens else 1.0

    @property
    def saved_tokens(self) -> int:
        return self.original_tokens - self.kept_tokens


@dataclass(slots=True, frozen=True)
class Tuning:
    neighbour_weight: float = 0.35  # share of the better neighbour's score a unit inherits
    min_query_hits: int = 2  # fewer question words found in the text: ask the embedder
    embed_window: int = 8  # units around the cut-off re-scored by embedding
    embed_weight: float = 1.0  # cosine weight beside the max-normalised lexical score


class Compressor:
    """Deterministic for a given text, question, target and embedder."""

    def __init__(self, embed: Embed | None = None, tuning: Tuning | None = None) -> None:
        self.embed = embed
        self.tuning = tuning or Tuning()

    def compress(
        self, text: str, question: str, *, ratio: float | None = None, budget_tokens: int | None = None
    ) -> Compressed:
        """Keep at most ``ratio`` of the tokens (or ``budget_tokens``), best units first, in order."""
        units = split(text)
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lower-case to two: slice per unit instead
            unit_pieces = [pieces(u.text.lower()) for u in units]
        else:
            unit_pieces = [pieces(lowered[u.start : u.end]) for u in units]
        sizes = [len(p) for p in unit_pieces]
        total = sum(sizes)  # units hold every token: only whitespace lies between them
        budget = _budget(total, ratio, budget_tokens)
        if len(units) < 2 or sum(sizes) <= budget:
            return Compressed(text, total, total, len(units), len(units))
        scores, embedded = self._score(units, unit_pieces, sizes, question, budget)
        keep = _select(scores, sizes, budget)
        out = join(text, [units[i] for i in keep])
        return Compressed(out, total, sum(sizes[i] for i in keep), len(units), len(keep), embedded)

    def _score(
        self, units: list[Segment], unit_pieces: list[list[str]], sizes: list[int], question: str, budget: int
    ) -> tuple[list[float], int]:
        lexical = bm25_scores(unit_pieces, question)
        top = max(lexical.scores) or 1.0
        scores = _smooth([s / top for s in lexical.scores], self.tuning.neighbour_weight)
        if self.embed is None or not question.strip() or lexical.found >= self.tuning.min_query_hits:
            return scores, 0
        window = _boundary(scores, sizes, budget, self.tuning.embed_window)
        vectors = self.embed([question, *(units[i].text for i in window)])
        sims = vectors[1:] @ vectors[0]
        for i, sim in zip(window, sims.tolist(), strict=True):
            scores[i] += self.tuning.embed_weight * float(sim)
        return scores, len(window)


def _budget(total: int, ratio: float | None, budget_tokens: int | None) -> int:
    limits = [total]
    if ratio is not None:
        limits.append(int(total * ratio))
    if budget_tokens is not None:
        limits.append(budget_tokens)
    return max(1, min(limits))


def _smooth(scores: list[float], weight: float) -> list[float]:
    n = len(scores)
    out = []
    for i, s in enumerate(scores):
        left = scores[i - 1] if i > 0 else 0.0
        right = scores[i + 1] if i + 1 < n else 0.0
        out.append(s + weight * max(left, right))
    return out


def _ranking(scores: list[float]) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def _select(scores: list[float], sizes: list[int], budget: int) -> list[int]:
    """Greedy by score; a unit that does not fit is skipped (a smaller one may); original order."""
    left = budget
    smallest = min(sizes)
    keep: list[int] = []
    for i in _ranking(scores):
        if sizes[i] <= left:
            keep.append(i)
            left -= sizes[i]
            if left < smallest:
                break
    return sorted(keep)


def _boundary(scores: list[float], sizes: list[int], budget: int, width: int) -> list[int]:
    """The ``width`` ranked units around the one where the budget runs out."""
    ranked = _ranking(scores)
    used, cut = 0, len(ranked)
    for pos, i in enumerate(ranked):
        used += sizes[i]
        if used > budget:
            cut = pos
            break
    lo = max(0, cut - width // 2)
    return sorted(ranked[lo : lo + width])


def join(source: str, kept: list[Segment]) -> str:
    """Kept units with the original gap where they were adjacent, else a line or paragraph break."""
    parts: list[str] = []
    prev: Segment | None = None
    for seg in kept:
        if prev is not None:
            gap = source[prev.end : seg.start]
            if gap.isspace() or gap == "":
                parts.append(gap)
            elif "\n\n" in gap:
                parts.append("\n\n")
            elif "\n" in gap:
                parts.append("\n")
            else:
                parts.append(" ")
        parts.append(seg.text)
        prev = seg
    return "".join(parts)
