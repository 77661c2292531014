"""Shared by the cache benchmarks: load the QQP dev pairs and their cached MiniLM vectors."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
VECTOR_CACHE = Path("/tmp/portico-cache")


def data_dir() -> Path:
    return Path(os.environ.get("PORTICO_SHARED_DATA", str(ROOT.parent / "shared" / "data")))


def load_pairs() -> list[dict[str, Any]]:
    path = data_dir() / "cache" / "qqp_pairs_dev.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def embed_cached(texts: list[str]) -> dict[str, npt.NDArray[np.float32]]:
    """Embed ``texts`` (normalised as the gateway does) once; vectors cached on disk."""
    from portico.cache.normalize import normalize_turn
    from portico.embeddings import MiniLMEmbedder
    from portico.embeddings.disk_cache import embed_with_disk_cache

    unique = sorted({normalize_turn(t) for t in texts})
    vecs = embed_with_disk_cache(MiniLMEmbedder(batch_size=64), unique, VECTOR_CACHE, prefix="qqp_minilm")
    return {t: vecs[i] for i, t in enumerate(unique)}


SEED = "portico-cache-v1"


def _group_roots(rows: list[dict[str, Any]], idx: Sequence[int]) -> list[str]:
    """Per pair of ``idx``: its group's root text, pairs linked by a shared (normalised)
    question text being one group; roots are the smallest text of each group."""
    from portico.cache.normalize import normalize_turn

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in idx:
        a, b = find(normalize_turn(rows[i]["text_a"])), find(normalize_turn(rows[i]["text_b"]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [find(normalize_turn(rows[i]["text_a"])) for i in idx]


def split_pairs(rows: list[dict[str, Any]]) -> tuple[list[int], list[int], list[int]]:
    """(train, tune, test) pair indices: ~35/15/50 by connected question groups.

    Pairs sharing a question text are linked, and whole groups go to one part, so no
    question text appears in two parts. The assignment hashes the group with a fixed seed.
    """
    train: list[int] = []
    tune: list[int] = []
    test: list[int] = []
    for i, root in enumerate(_group_roots(rows, range(len(rows)))):
        h = int(hashlib.sha256(f"{SEED}:{root}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (train if h < 0.35 else tune if h < 0.5 else test).append(i)
    return train, tune, test


def question_groups(rows: list[dict[str, Any]], idx: list[int]) -> list[int]:
    """A group number per pair of ``idx``: pairs linked by a shared question text share it
    (for grouped cross-validation inside one part; the split above is unaffected)."""
    numbers: dict[str, int] = {}
    return [numbers.setdefault(root, len(numbers)) for root in _group_roots(rows, idx)]
