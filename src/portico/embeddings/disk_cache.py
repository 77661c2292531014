"""Embeddings cached on disk for offline jobs (training scripts and benchmarks), keyed by
the model file and the texts, so that a model change never reuses stale vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from portico.embeddings.minilm import MiniLMEmbedder

DEFAULT_DIR = Path("/tmp/portico-cache")


def cache_path(
    embedder: MiniLMEmbedder, texts: Sequence[str], directory: Path = DEFAULT_DIR, prefix: str = "minilm"
) -> Path:
    """Where the vectors of exactly this list of texts are kept."""
    digest = hashlib.sha256()
    digest.update(f"{embedder.model_path.name}\x00{embedder.max_length}\x00".encode())
    digest.update("\x00".join(texts).encode())
    return directory / f"{prefix}_{digest.hexdigest()[:16]}.npy"


def embed_with_disk_cache(
    embedder: MiniLMEmbedder, texts: Sequence[str], directory: Path = DEFAULT_DIR, prefix: str = "minilm"
) -> npt.NDArray[np.float32]:
    path = cache_path(embedder, texts, directory, prefix)
    if path.exists():
        cached: npt.NDArray[np.float32] = np.load(path)
        return cached
    vectors = embedder.embed(list(texts))
    directory.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
