"""Hashed word uni- and bigrams with sublinear TF-IDF weights: a sparse bag of words that
needs no vocabulary file and costs well under a millisecond per prompt.

The hash is CRC-32 (stable across processes and Python versions, unlike ``hash``).
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\b\w\w+\b")
DEFAULT_BUCKETS = 1 << 17


def hashed_counts(text: str, buckets: int) -> Counter[int]:
    """Bucket -> count for the lower-cased word unigrams and bigrams of ``text``."""
    words = _WORD.findall(text.lower())
    grams = words + [a + " " + b for a, b in itertools.pairwise(words)]
    return Counter(zlib.crc32(g.encode()) % buckets for g in grams)


class HashedTfidf:
    """``transform`` gives L2-normalised rows of (1 + log tf) * idf over hashed buckets."""

    def __init__(self, idf: npt.NDArray[np.float32]) -> None:
        self.idf = idf
        self.buckets = int(idf.shape[0])

    @classmethod
    def fit(cls, texts: Sequence[str], buckets: int = DEFAULT_BUCKETS, min_df: int = 1) -> HashedTfidf:
        df = np.zeros(buckets, dtype=np.float64)
        for t in texts:
            for b in hashed_counts(t, buckets):
                df[b] += 1
        n = len(texts)
        idf = np.log((1 + n) / (1 + df)) + 1.0
        idf[df < max(min_df, 1)] = 0.0  # unseen or too rare to learn a weight from
        return cls(idf.astype(np.float32))

    def row(self, text: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """Sparse (indices, values) of one text."""
        counts = hashed_counts(text, self.buckets)
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float32, count=len(counts))
        vals = tf * self.idf[idx]
        norm = float(np.linalg.norm(vals))
        return idx, (vals / norm if norm > 0 else vals).astype(np.float32)

    def dot(self, text: str, weights: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``row(text) @ weights`` for a dense (buckets, k) weight matrix, without a sparse library."""
        idx, vals = self.row(text)
        out: npt.NDArray[np.float32] = (vals[:, None] * weights[idx]).sum(axis=0).astype(np.float32)
        return out

    def matrix(self, texts: Sequence[str]) -> object:
        """A scipy CSR matrix for training (scipy ships with scikit-learn)."""
        import scipy.sparse as sp

        rows: list[npt.NDArray[np.intp]] = [np.zeros(0, dtype=np.intp)]
        cols: list[npt.NDArray[np.intp]] = [np.zeros(0, dtype=np.intp)]
        vals: list[npt.NDArray[np.float32]] = [np.zeros(0, dtype=np.float32)]
        for i, t in enumerate(texts):
            idx, v = self.row(t)
            rows.append(np.full(idx.shape[0], i, dtype=np.intp))
            cols.append(idx)
            vals.append(v)
        data = (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols)))
        return sp.csr_matrix(data, shape=(len(texts), self.buckets), dtype=np.float32)
