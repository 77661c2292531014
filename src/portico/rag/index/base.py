"""The VectorIndex seam: chunks of files in vector stores, searched densely and lexically.

A backend stores each chunk's text, its lexical tokens and its vector, with its file's
attributes; it answers dense (cosine) and lexical (BM25) top-k queries restricted to one
store and, optionally, to the files whose attributes satisfy a predicate. Fusion, query
embedding and thresholds live above it (``portico.rag.retrieve``), so every backend ranks
with the same code and passes the same contract tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from portico.rag.filters import Predicate

Vector = npt.NDArray[np.float32]

# BM25 parameters (Lucene variant, as bm25s): the values the published SciFact
# figure uses; kept the same on every backend.
BM25_K1 = 0.9
BM25_B = 0.4


def bm25_idf(n_docs: float, df: float) -> float:
    """Lucene's idf, as bm25s: never negative, and an unseen term (df 0) gets the highest.
    Every backend's normaliser and scores use this one formula."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


@dataclass(slots=True, frozen=True)
class ChunkIn:
    text: str
    tokens: Sequence[str]
    vector: Vector
    position: int


@dataclass(slots=True, frozen=True)
class Hit:
    chunk_id: int
    file_id: str
    position: int
    text: str
    score: float
    attributes: Mapping[str, Any] = field(default_factory=dict)


class VectorIndex(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None:
        """Persist derived indexes and release resources."""

    async def flush(self) -> None:
        """Persist derived indexes now (after a burst of ingestion); a no-op where nothing is derived."""

    async def replace_file(
        self, store_id: str, file_id: str, chunks: Sequence[ChunkIn], attributes: Mapping[str, Any]
    ) -> None:
        """Make ``chunks`` the only chunks of ``file_id`` in ``store_id`` (atomically)."""

    async def set_attributes(self, store_id: str, file_id: str, attributes: Mapping[str, Any]) -> None: ...

    async def delete_file(self, store_id: str, file_id: str) -> None: ...

    async def delete_store(self, store_id: str) -> None: ...

    async def count(self, store_id: str) -> int:
        """Chunks in the store."""

    async def dense(self, store_id: str, vector: Vector, k: int, where: Predicate | None = None) -> list[Hit]:
        """Top ``k`` chunks by cosine similarity (score in [-1, 1])."""

    async def lexical(self, store_id: str, tokens: Sequence[str], k: int, where: Predicate | None = None) -> list[Hit]:
        """Top ``k`` chunks by BM25 (k1=0.9, b=0.4) over the store; chunks scoring 0 are left out.
        Scores are divided by the sum of the query terms' idf (the most a chunk can score), so
        they lie in [0, 1] and compare across queries."""
