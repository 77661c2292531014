"""Embedding similarity: cosine between the reply and the reference with the local MiniLM."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.scoring.base import Score, references

DEFAULT_THRESHOLD = 0.8


class TextEmbedder(Protocol):
    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class EmbeddingSimilarity:
    """Passes when the best cosine similarity to a reference is >= ``threshold`` (default 0.8).

    The embedder is created on first use (loading the ONNX model costs ~0.3 s) and shared
    by every row of the run.
    """

    def __init__(self, make_embedder: Callable[[], TextEmbedder]) -> None:
        self._make = make_embedder
        self._embedder: TextEmbedder | None = None
        self._lock = asyncio.Lock()

    async def _get(self) -> TextEmbedder:
        async with self._lock:
            if self._embedder is None:
                self._embedder = await asyncio.to_thread(self._make)
            return self._embedder

    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score:
        refs = references(assertion, case)
        if not refs:
            return Score.of(False, "no reference text")
        embedder = await self._get()
        vecs = await asyncio.to_thread(embedder.embed, [output, *refs])
        best = float(np.max(vecs[1:] @ vecs[0]))
        threshold = float(assertion.options.get("threshold", DEFAULT_THRESHOLD))
        return Score(passed=best >= threshold, value=max(0.0, best), reason=f"cosine {best:.3f}")


def default_embedder() -> TextEmbedder:
    from portico.embeddings import MiniLMEmbedder

    return MiniLMEmbedder()
