"""ScopeIndex: exact numpy search while small, usearch HNSW once large, same answers either way."""

from __future__ import annotations

import time

import numpy as np

from portico.cache.features import FEATURE_NAMES
from portico.cache.protocols import SemanticEntry
from portico.cache.scope_index import ScopeIndex
from portico.cache.verifier import PairVerifier


def entries(n: int, seed: int = 3) -> list[SemanticEntry]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [SemanticEntry(f"k{i}", f"text {i}", vectors[i], time.time() + 60) for i in range(n)]


def test_ann_and_exact_agree_through_adds_and_removes() -> None:
    items = entries(300)
    exact, ann = ScopeIndex(ann_min_entries=10_000), ScopeIndex(ann_min_entries=16)
    for e in items:
        exact.put(e)
        ann.put(e)
    for e in items[::3]:
        exact.remove(e.entry_key)
        ann.remove(e.entry_key)
    assert len(exact) == len(ann) == 200
    for e in items[1::3][:40]:
        (best_exact, s1), *_ = exact.nearest(e.vector, 3)
        (best_ann, s2), *_ = ann.nearest(e.vector, 3)
        assert best_exact.entry_key == best_ann.entry_key == e.entry_key
        assert abs(s1 - s2) < 1e-5 and s1 > 0.999  # ANN candidates are re-scored exactly
    removed = items[0]
    assert all(found.entry_key != removed.entry_key for found, _ in ann.nearest(removed.vector, 5))


def test_replacing_an_entry_keeps_one_row() -> None:
    index = ScopeIndex(ann_min_entries=4)
    items = entries(6)
    for e in items:
        index.put(e)
    index.put(SemanticEntry("k0", "new text", items[5].vector, time.time() + 60))
    assert len(index) == 6
    hits = index.nearest(items[5].vector, 2)
    assert {h.entry_key for h, _ in hits} == {"k0", "k5"}


def test_shipped_verifier_loads_and_scores() -> None:
    verifier = PairVerifier()
    assert verifier.idf("the") < verifier.idf("zyzzyva")
    rows = np.zeros((2, len(FEATURE_NAMES)))
    p = verifier.probability(rows, np.zeros((2, 768), dtype=np.float32))
    assert p.shape == (2,) and np.all((p >= 0) & (p <= 1))
