"""One scope's vectors: exact numpy search while small, a usearch HNSW index once it pays off.

At 100k rows a float32 matmul reads ~150 MB per query (tens of ms here); an int8 HNSW
graph (usearch) answers in well under a millisecond, and its candidates are re-scored
exactly from the float32 rows. Small scopes (the common case: one per model, system prompt and
conversation prefix) stay exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from portico.cache.protocols import SemanticEntry, Vector

_DIM = 384


class ScopeIndex:
    def __init__(self, ann_min_entries: int) -> None:
        self._ann_min = ann_min_entries
        self._matrix = np.zeros((16, _DIM), dtype=np.float32)
        self._entries: list[SemanticEntry] = []
        self._row: dict[str, int] = {}
        self._uid: dict[str, int] = {}
        self._key_of_uid: dict[int, str] = {}
        self._next_uid = 0
        self._ann: Any = None  # usearch.index.Index, built lazily

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[SemanticEntry]:
        return list(self._entries)

    def put(self, entry: SemanticEntry) -> None:
        row = self._row.get(entry.entry_key)
        if row is None:
            row = len(self._entries)
            if row == self._matrix.shape[0]:
                grown = np.zeros((row * 2, self._matrix.shape[1]), dtype=np.float32)
                grown[:row] = self._matrix[:row]
                self._matrix = grown
            self._entries.append(entry)
            self._row[entry.entry_key] = row
        else:
            self._entries[row] = entry
            self._ann_remove(entry.entry_key)
        self._matrix[row] = entry.vector
        if self._ann is not None:
            self._ann_add(entry)
        elif len(self._entries) >= self._ann_min:
            self._build_ann()

    def remove(self, entry_key: str) -> None:
        row = self._row.pop(entry_key, None)
        if row is None:
            return
        self._ann_remove(entry_key)
        last = len(self._entries) - 1
        if row != last:
            moved = self._entries[last]
            self._entries[row] = moved
            self._matrix[row] = self._matrix[last]
            self._row[moved.entry_key] = row
        self._entries.pop()
        if self._ann is not None and len(self._entries) < self._ann_min // 2:
            self._ann = None
            self._uid.clear()
            self._key_of_uid.clear()

    def nearest(self, vector: Vector, k: int) -> list[tuple[SemanticEntry, float]]:
        n = len(self._entries)
        if n == 0:
            return []
        if self._ann is not None:
            return self._ann_nearest(vector, k)
        sims = self._matrix[:n] @ vector
        top = np.argpartition(-sims, k - 1)[:k] if n > k else np.arange(n)
        top = top[np.argsort(-sims[top])]
        return [(self._entries[i], float(sims[i])) for i in top]

    def _build_ann(self) -> None:
        # onnxruntime must be loaded before usearch: the other order segfaults in the
        # onnxruntime import (usearch 2.26 / onnxruntime here), and the embedder needs it.
        import onnxruntime  # noqa: F401
        from usearch.index import Index

        # int8 graph for speed and memory; candidates are re-scored exactly from the float32 rows.
        self._ann = Index(ndim=self._matrix.shape[1], metric="ip", dtype="i8", expansion_search=64)
        n = len(self._entries)
        uids = np.arange(self._next_uid, self._next_uid + n, dtype=np.uint64)
        self._next_uid += n
        for uid, entry in zip(uids.tolist(), self._entries, strict=True):
            self._uid[entry.entry_key] = uid
            self._key_of_uid[uid] = entry.entry_key
        self._ann.add(uids, self._matrix[:n], threads=1)

    def _ann_add(self, entry: SemanticEntry) -> None:
        uid = self._next_uid
        self._next_uid += 1
        self._uid[entry.entry_key] = uid
        self._key_of_uid[uid] = entry.entry_key
        self._ann.add(uid, entry.vector, threads=1)

    def _ann_remove(self, entry_key: str) -> None:
        uid = self._uid.pop(entry_key, None)
        if uid is not None:
            self._key_of_uid.pop(uid, None)
            self._ann.remove(uid)

    def _ann_nearest(self, vector: Vector, k: int) -> list[tuple[SemanticEntry, float]]:
        matches = self._ann.search(vector, k, threads=1)
        rows = [self._row[key] for uid in matches.keys if (key := self._key_of_uid.get(int(uid))) is not None]
        sims = self._matrix[rows] @ vector
        order = np.argsort(-sims)
        return [(self._entries[rows[i]], float(sims[i])) for i in order]
