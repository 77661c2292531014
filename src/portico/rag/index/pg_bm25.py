"""BM25 for the pgvector backend: postings live in PostgreSQL, scoring runs in the gateway.

Why not in SQL: at 100k chunks a SciFact claim's terms have ~50k-110k postings, and PostgreSQL
spends ~1-3 us per posting row on the index scan, the join and the hash aggregate (hybrid p95
344 ms against a 50 ms goal). The same postings as arrays score in a few milliseconds with numpy.

Consistency across replicas: each (store, term) row of ``portico_rag_df`` carries a version
(``ver``, from one sequence) that every write changing that term's postings sets in the same
transaction. A query reads the store's statistics and its terms' df and version in one
snapshot; postings cached at that version are reused, any other term's postings are read in
the same snapshot and cached under the version read. So every replica scores exactly what the
database holds at the query's snapshot (the same idf, avgdl and postings as SQL BM25 would);
a cache only saves reading postings that have not changed. The cache is bounded in bytes and
evicts the least recently used terms.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from portico.rag.index.base import BM25_B, BM25_K1

# One statement, so one snapshot: the store's statistics, each query term's df and version,
# and the postings of every term whose version differs from the one cached ($3; -1 for none),
# packed 16 bytes per posting (chunk id, tf, document length, big-endian) from an index-only
# scan of the postings' primary key (which includes tf and doc_len). No row: an empty store.
TERMS_SQL = """
SELECT q.term, coalesce(f.df, 0) AS df, coalesce(f.ver, 0) AS ver, s.n_docs, s.total_len,
       CASE WHEN f.df > 0 AND f.ver <> q.have THEN (
           SELECT string_agg(int8send(p.chunk_id) || int4send(p.tf) || int4send(p.doc_len), ''::bytea)
           FROM portico_rag_postings p WHERE p.store_id = $1 AND p.term = q.term) END AS packed
FROM portico_rag_stats s CROSS JOIN unnest($2::text[], $3::bigint[]) AS q(term, have)
LEFT JOIN portico_rag_df f ON f.store_id = s.store_id AND f.term = q.term
WHERE s.store_id = $1
"""
_PACKED = np.dtype([("id", ">i8"), ("tf", ">i4"), ("dl", ">i4")])


@dataclass(slots=True, frozen=True)
class Postings:
    """One term's postings in one store, as of ``ver``."""

    ver: int
    ids: npt.NDArray[np.int64]
    tf: npt.NDArray[np.int32]
    dl: npt.NDArray[np.int32]

    @classmethod
    def unpack(cls, ver: int, packed: bytes) -> Postings:
        rows = np.frombuffer(packed, dtype=_PACKED)
        return cls(ver, rows["id"].astype(np.int64), rows["tf"].astype(np.int32), rows["dl"].astype(np.int32))

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.tf.nbytes + self.dl.nbytes)


class PostingsCache:
    """Least-recently-used postings by (store, term), bounded by their size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[str, str], Postings] = OrderedDict()

    def peek(self, store_id: str, term: str) -> Postings | None:
        """The cached postings, whatever their version (the query asks the database whether current)."""
        item = self._items.get((store_id, term))
        if item is not None:
            self._items.move_to_end((store_id, term))
        return item

    def put(self, store_id: str, term: str, postings: Postings) -> None:
        old = self._items.pop((store_id, term), None)
        if old is not None:
            self.size -= old.nbytes
        if postings.nbytes > self.max_bytes:
            return
        self._items[(store_id, term)] = postings
        self.size += postings.nbytes
        while self.size > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self.size -= dropped.nbytes

    def drop_store(self, store_id: str) -> None:
        for key in [k for k in self._items if k[0] == store_id]:
            self.size -= self._items.pop(key).nbytes


def top_k(
    weighted: Sequence[tuple[float, Postings]],
    avgdl: float,
    k: int,
    allowed: npt.NDArray[np.int64] | None = None,
) -> list[tuple[int, float]]:
    """The ``k`` best (chunk id, BM25) over the terms' postings, each term weighted by its
    query count times idf; best first, ties by chunk id (as the SQL ORDER BY score DESC, id)."""
    parts = [(w, p) for w, p in weighted if len(p.ids)]
    if not parts or k <= 0:
        return []
    ids = np.concatenate([p.ids for _, p in parts])
    a = BM25_K1 * (1.0 - BM25_B)
    bb = BM25_K1 * BM25_B / avgdl
    contrib = np.concatenate([_term_scores(w, p, a, bb) for w, p in parts])
    if allowed is not None:
        keep = np.isin(ids, allowed)
        ids, contrib = ids[keep], contrib[keep]
        if not len(ids):
            return []
    lo = int(ids.min())
    span = int(ids.max()) - lo + 1
    if span <= 8 * len(ids) + 4096:  # dense id range: sum by direct indexing
        totals = np.bincount(ids - lo, weights=contrib, minlength=span)
        keys = np.flatnonzero(totals)
        scores = totals[keys]
        keys = keys + lo
    else:
        keys, inverse = np.unique(ids, return_inverse=True)
        scores = np.bincount(inverse, weights=contrib)
    n = min(k, len(keys))
    best = np.argpartition(-scores, n - 1)[:n] if n < len(keys) else np.arange(len(keys))
    # a chunk tied with the k-th may be left out by argpartition: take every chunk at that score
    cut = scores[best].min()
    best = np.flatnonzero(scores >= cut)
    order = np.lexsort((keys[best], -scores[best]))[:n]
    chosen = best[order]
    return [(int(keys[i]), float(scores[i])) for i in chosen]


def _term_scores(weight: float, p: Postings, a: float, bb: float) -> npt.NDArray[np.float64]:
    tf = p.tf.astype(np.float64)
    out: npt.NDArray[np.float64] = weight * tf / (tf + a + bb * p.dl)
    return out
