"""pgvector BM25 in the gateway: cached postings never outlive a change made by another replica,
and the top-k selection orders like SQL's ORDER BY score DESC, chunk_id."""

from __future__ import annotations

import uuid

import numpy as np

from portico.rag.index.pg_bm25 import Postings, top_k
from portico.rag.index.pgvector import PgVectorIndex
from portico.rag.text import lexical_tokens

from .conftest import chunks


def _postings(ids: list[int], tf: list[int], dl: list[int]) -> Postings:
    return Postings(0, np.array(ids, np.int64), np.array(tf, np.int32), np.array(dl, np.int32))


def test_top_k_sums_terms_orders_ties_by_chunk_id_and_filters() -> None:
    a = _postings([7, 3, 9], [1, 1, 2], [10, 10, 10])
    b = _postings([3, 5], [1, 1], [10, 10])
    got = top_k([(1.0, a), (1.0, b)], avgdl=10.0, k=3)
    one = 1 / (1 + 0.9)  # tf 1 at the average length
    assert [i for i, _ in got] == [3, 9, 5]  # 3 matches both terms; 9 has tf 2
    assert abs(got[0][1] - 2 * one) < 1e-12
    tied = top_k([(1.0, _postings([8, 2, 5], [1, 1, 1], [10, 10, 10]))], avgdl=10.0, k=2)
    assert [i for i, _ in tied] == [2, 5]  # equal scores: lowest chunk id first, as the SQL did
    assert [i for i, _ in top_k([(1.0, a), (1.0, b)], 10.0, 5, allowed=np.array([5, 7]))] == [5, 7]
    assert top_k([(1.0, a)], 10.0, 5, allowed=np.array([1])) == []


async def test_a_replica_sees_another_replicas_writes(pgvector_url: str) -> None:
    schema = f"rag_{uuid.uuid4().hex[:10]}"
    first, second = PgVectorIndex(pgvector_url, schema=schema), PgVectorIndex(pgvector_url, schema=schema)
    uncached = PgVectorIndex(pgvector_url, schema=schema, postings_cache_mb=0)
    for idx in (first, second, uncached):
        await idx.start()
    query = lexical_tokens("moon tides")
    try:
        await first.replace_file("vs", "f1", chunks("Tides follow the Moon.", "Bread rises."), {})
        await first.replace_file("vs", "f2", chunks("Spring tides are high tides."), {})
        before = await first.lexical("vs", query, 10)  # cached in `first` now
        assert [h.file_id for h in before] == ["f1", "f2"]
        await second.replace_file("vs", "f3", chunks("The Moon, the Moon and tides."), {})
        await second.delete_file("vs", "f2")
        after = await first.lexical("vs", query, 10)
        fresh = await uncached.lexical("vs", query, 10)
        assert [(h.chunk_id, h.score) for h in after] == [(h.chunk_id, h.score) for h in fresh]
        assert [h.file_id for h in after] == ["f3", "f1"]
        # a store deleted and refilled under the same id by another replica: no stale postings
        await second.delete_store("vs")
        await second.replace_file("vs", "g1", chunks("Tides again, no satellite."), {})
        again = await first.lexical("vs", query, 10)
        assert [h.file_id for h in again] == ["g1"]
        assert [(h.chunk_id, h.score) for h in again] == [
            (h.chunk_id, h.score) for h in await uncached.lexical("vs", query, 10)
        ]
    finally:
        for idx in (first, second, uncached):
            await idx.close()
