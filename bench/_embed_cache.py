"""A per-text embedding cache on disk for the RAG benchmarks (the corpus is embedded once per
model; queries and chunks of later runs are looked up by their hash)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from portico.embeddings import MiniLMEmbedder

CACHE_DIR = Path("/tmp/portico-cache")


class CachedEmbed:
    """An ``Embed`` (async, batch) over MiniLM that remembers every vector it computed."""

    def __init__(self, name: str, embedder: MiniLMEmbedder | None = None) -> None:
        self.embedder = embedder or MiniLMEmbedder(threads=1)
        self.path = CACHE_DIR / f"{name}_{self.embedder.model_path.name}_{self.embedder.max_length}.npz"
        self.vectors: dict[str, npt.NDArray[np.float16]] = {}
        if self.path.exists():
            with np.load(self.path) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.computed = 0

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    async def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        missing = list(dict.fromkeys(t for t in texts if self._key(t) not in self.vectors))
        if missing:
            fresh = await asyncio.to_thread(self.embedder.embed, missing)
            for t, v in zip(missing, fresh, strict=True):
                self.vectors[self._key(t)] = v.astype(np.float16)
            self.computed += len(missing)
        return np.stack([self.vectors[self._key(t)].astype(np.float32) for t in texts])

    def save(self) -> None:
        if not self.computed:
            return
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors), dtype="U40")
        vectors = np.stack(list(self.vectors.values()))
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        tmp.replace(self.path)
