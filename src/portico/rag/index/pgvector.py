"""The PostgreSQL + pgvector VectorIndex, for replicas that share one database.

Dense search is pgvector's HNSW index (cosine) with iterative scans, so a store or attribute
restriction still returns k rows. Lexical search is BM25 over a postings table (term, chunk,
tf, document length) with the same tokens, the same Lucene formula and the same k1/b as the
embedded bm25s index, so both backends rank alike; the postings are scored in the gateway,
cached by a per-term version that keeps replicas exact (``pg_bm25``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from portico.rag.filters import Predicate
from portico.rag.index.base import ChunkIn, Hit, Vector, bm25_idf
from portico.rag.index.pg_bm25 import TERMS_SQL, Postings, PostingsCache, top_k

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _schema_sql(dim: int) -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS vector",
        """CREATE TABLE IF NOT EXISTS portico_rag_files (
            store_id text NOT NULL, file_id text NOT NULL, attributes jsonb NOT NULL,
            PRIMARY KEY (store_id, file_id))""",
        f"""CREATE TABLE IF NOT EXISTS portico_rag_chunks (
            id bigserial PRIMARY KEY, store_id text NOT NULL, file_id text NOT NULL, position int NOT NULL,
            text text NOT NULL, embedding vector({dim}) NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS ix_portico_rag_chunks_file ON portico_rag_chunks (store_id, file_id)",
        """CREATE INDEX IF NOT EXISTS ix_portico_rag_chunks_hnsw ON portico_rag_chunks
            USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128)""",
        """CREATE TABLE IF NOT EXISTS portico_rag_postings (
            store_id text NOT NULL, term text NOT NULL, chunk_id bigint NOT NULL, file_id text NOT NULL,
            tf int NOT NULL, doc_len int NOT NULL, PRIMARY KEY (store_id, term, chunk_id) INCLUDE (tf, doc_len))""",
        "CREATE INDEX IF NOT EXISTS ix_portico_rag_postings_chunk ON portico_rag_postings (chunk_id)",
        """CREATE TABLE IF NOT EXISTS portico_rag_stats (
            store_id text PRIMARY KEY, n_docs bigint NOT NULL, total_len bigint NOT NULL)""",
        # document frequencies, kept with the postings: a query reads them instead of counting;
        # ver (from one sequence) changes with the term's postings, so caches know they are current
        """CREATE TABLE IF NOT EXISTS portico_rag_df (
            store_id text NOT NULL, term text NOT NULL, df bigint NOT NULL, PRIMARY KEY (store_id, term))""",
        "ALTER TABLE portico_rag_df ADD COLUMN IF NOT EXISTS ver bigint NOT NULL DEFAULT 0",
        "CREATE SEQUENCE IF NOT EXISTS portico_rag_ver",
    ]


def _file_attributes(rows: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Each file's attributes, parsed once per file, from rows joined with portico_rag_files
    (``file_id``, ``attributes``; a file without a row has none)."""
    attrs: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["file_id"] not in attrs:
            attrs[r["file_id"]] = json.loads(r["attributes"]) if r["attributes"] is not None else {}
    return attrs


def _vec(v: Vector) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in np.asarray(v, dtype=np.float32)) + "]"


def _dsn(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


class PgVectorIndex:
    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        dim: int = 384,
        pool_size: int = 4,
        postings_cache_mb: float = 256.0,
    ) -> None:
        if schema is not None and not _IDENT.match(schema):
            raise ValueError(f"rag.pg_schema {schema!r} is not a plain identifier")
        self.url = _dsn(url)
        self.schema = schema
        self.dim = dim
        self.pool_size = pool_size
        self._pool: Any = None
        self._postings = PostingsCache(int(postings_cache_mb * 1e6))

    async def start(self) -> None:
        import asyncpg

        if self._pool is not None:
            return
        if self.schema:
            conn = await asyncpg.connect(self.url)
            try:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            finally:
                await conn.close()
        settings = {"search_path": f'"{self.schema}", public'} if self.schema else {}
        settings["hnsw.iterative_scan"] = "relaxed_order"
        settings["hnsw.ef_search"] = "100"

        async def init(conn: Any) -> None:
            await conn.execute("SELECT 1")

        pool = await asyncpg.create_pool(
            self.url, min_size=1, max_size=self.pool_size, server_settings=settings, init=init
        )
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(72610015)")  # concurrent replicas start-up
            for statement in _schema_sql(self.dim):
                await conn.execute(statement)
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def flush(self) -> None:
        return None

    def _p(self) -> Any:
        if self._pool is None:
            raise RuntimeError("PgVectorIndex.start() was not awaited")
        return self._pool

    # ---- writes ----------------------------------------------------------------------------
    async def replace_file(
        self, store_id: str, file_id: str, chunks: Sequence[ChunkIn], attributes: Mapping[str, Any]
    ) -> None:
        async with self._p().acquire() as conn, conn.transaction():
            ver = await self._remove(conn, store_id, file_id)
            await conn.execute(
                "INSERT INTO portico_rag_files (store_id, file_id, attributes) VALUES ($1, $2, $3::jsonb) "
                "ON CONFLICT (store_id, file_id) DO UPDATE SET attributes = EXCLUDED.attributes",
                store_id,
                file_id,
                json.dumps(dict(attributes)),
            )
            if not chunks:
                return
            ids = await conn.fetch(
                "INSERT INTO portico_rag_chunks (store_id, file_id, position, text, embedding) "
                "SELECT $1, $2, p, t, e::vector FROM unnest($3::int[], $4::text[], $5::text[]) AS u(p, t, e) "
                "RETURNING id, position",
                store_id,
                file_id,
                [c.position for c in chunks],
                [c.text for c in chunks],
                [_vec(c.vector) for c in chunks],
            )
            by_position = {r["position"]: r["id"] for r in ids}
            rows: list[tuple[str, str, int, str, int, int]] = []
            total = 0
            for c in chunks:
                counts = Counter(c.tokens)
                total += len(c.tokens)
                rows.extend(
                    (store_id, term, by_position[c.position], file_id, tf, len(c.tokens)) for term, tf in counts.items()
                )
            await conn.copy_records_to_table(
                "portico_rag_postings",
                records=rows,
                columns=["store_id", "term", "chunk_id", "file_id", "tf", "doc_len"],
                schema_name=self.schema,
            )
            df = Counter(term for c in chunks for term in set(c.tokens))
            await conn.execute(
                "INSERT INTO portico_rag_df (store_id, term, df, ver) SELECT $1, t, n, $4 FROM "
                "unnest($2::text[], $3::bigint[]) AS u(t, n) ON CONFLICT (store_id, term) "
                "DO UPDATE SET df = portico_rag_df.df + EXCLUDED.df, ver = EXCLUDED.ver",
                store_id,
                list(df),
                list(df.values()),
                ver,
            )
            await self._add_stats(conn, store_id, len(chunks), total)

    async def _add_stats(self, conn: Any, store_id: str, docs: int, length: int) -> None:
        await conn.execute(
            "INSERT INTO portico_rag_stats (store_id, n_docs, total_len) VALUES ($1, $2, $3) "
            "ON CONFLICT (store_id) DO UPDATE SET n_docs = portico_rag_stats.n_docs + $2, "
            "total_len = portico_rag_stats.total_len + $3",
            store_id,
            docs,
            length,
        )

    async def _remove(self, conn: Any, store_id: str, file_id: str) -> int:
        """Remove the file's chunks and postings; the version this write gives the terms it changes."""
        # Lock the store's stats row first: concurrent writers to one store serialise here.
        await self._add_stats(conn, store_id, 0, 0)
        await conn.execute("SELECT 1 FROM portico_rag_stats WHERE store_id = $1 FOR UPDATE", store_id)
        ver = int(await conn.fetchval("SELECT nextval('portico_rag_ver')"))
        # The file's chunk ids come from the chunks table's (store_id, file_id) index; every
        # posting step below is then an index lookup by chunk id, never a scan of the postings
        # (a scan per file made filling a store quadratic: ~16 min for 100k chunks).
        ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM portico_rag_chunks WHERE store_id = $1 AND file_id = $2", store_id, file_id
            )
        ]
        if not ids:
            return ver
        length = await conn.fetchval(
            "SELECT coalesce(sum(doc_len), 0) FROM (SELECT DISTINCT chunk_id, doc_len FROM portico_rag_postings "
            "WHERE chunk_id = ANY($1::bigint[])) x",
            ids,
        )
        await conn.execute(
            "UPDATE portico_rag_df f SET df = f.df - x.n, ver = $3 FROM (SELECT term, count(*) AS n "
            "FROM portico_rag_postings WHERE chunk_id = ANY($2::bigint[]) GROUP BY term) x "
            "WHERE f.store_id = $1 AND f.term = x.term",
            store_id,
            ids,
            ver,
        )
        await conn.execute("DELETE FROM portico_rag_postings WHERE chunk_id = ANY($1::bigint[])", ids)
        await conn.execute("DELETE FROM portico_rag_chunks WHERE id = ANY($1::bigint[])", ids)
        await self._add_stats(conn, store_id, -len(ids), -int(length))
        return ver

    async def set_attributes(self, store_id: str, file_id: str, attributes: Mapping[str, Any]) -> None:
        async with self._p().acquire() as conn:
            await conn.execute(
                "UPDATE portico_rag_files SET attributes = $3::jsonb WHERE store_id = $1 AND file_id = $2",
                store_id,
                file_id,
                json.dumps(dict(attributes)),
            )

    async def delete_file(self, store_id: str, file_id: str) -> None:
        async with self._p().acquire() as conn, conn.transaction():
            await self._remove(conn, store_id, file_id)
            await conn.execute("DELETE FROM portico_rag_files WHERE store_id = $1 AND file_id = $2", store_id, file_id)

    async def delete_store(self, store_id: str) -> None:
        async with self._p().acquire() as conn, conn.transaction():
            for table in (
                "portico_rag_postings",
                "portico_rag_chunks",
                "portico_rag_files",
                "portico_rag_stats",
                "portico_rag_df",
            ):
                await conn.execute(f"DELETE FROM {table} WHERE store_id = $1", store_id)
        self._postings.drop_store(store_id)  # memory only: other replicas' entries fail the version check

    # ---- reads -----------------------------------------------------------------------------
    async def count(self, store_id: str) -> int:
        async with self._p().acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM portico_rag_chunks WHERE store_id = $1", store_id))

    async def _allowed(self, conn: Any, store_id: str, where: Predicate | None) -> list[str] | None:
        if where is None:
            return None
        rows = await conn.fetch("SELECT file_id, attributes FROM portico_rag_files WHERE store_id = $1", store_id)
        return [r["file_id"] for r in rows if where(json.loads(r["attributes"]))]

    async def dense(self, store_id: str, vector: Vector, k: int, where: Predicate | None = None) -> list[Hit]:
        if k <= 0:
            return []
        async with self._p().acquire() as conn:
            allowed = await self._allowed(conn, store_id, where)
            if allowed is not None and not allowed:
                return []
            # the HNSW top k, then their files' attributes, in one statement
            rows = await conn.fetch(
                "WITH h AS (SELECT id, file_id, position, text, embedding <=> $1::vector AS distance "
                "FROM portico_rag_chunks WHERE store_id = $2 AND ($3::text[] IS NULL OR file_id = ANY($3::text[])) "
                "ORDER BY embedding <=> $1::vector LIMIT $4) "
                "SELECT h.*, f.attributes FROM h LEFT JOIN portico_rag_files f "
                "ON f.store_id = $2 AND f.file_id = h.file_id ORDER BY h.distance, h.id",
                _vec(vector),
                store_id,
                allowed,
                k,
            )
        attrs = _file_attributes(rows)
        return [
            Hit(r["id"], r["file_id"], r["position"], r["text"], 1.0 - float(r["distance"]), attrs[r["file_id"]])
            for r in rows
        ]

    async def lexical(self, store_id: str, tokens: Sequence[str], k: int, where: Predicate | None = None) -> list[Hit]:
        if not tokens or k <= 0:
            return []
        counts = Counter(tokens)
        async with self._p().acquire() as conn:
            allowed_ids = None
            if where is not None:
                allowed = await self._allowed(conn, store_id, where)
                if not allowed:
                    return []
                packed = await conn.fetchval(
                    "SELECT string_agg(int8send(id), ''::bytea) FROM portico_rag_chunks "
                    "WHERE store_id = $1 AND file_id = ANY($2::text[])",
                    store_id,
                    allowed,
                )
                allowed_ids = np.frombuffer(packed or b"", dtype=">i8").astype(np.int64)
            cached = {t: self._postings.peek(store_id, t) for t in counts}
            have = [c.ver if c is not None else -1 for c in cached.values()]
            terms = await conn.fetch(TERMS_SQL, store_id, list(cached), have)
            if not terms or not terms[0]["n_docs"]:
                return []
            n_docs = float(terms[0]["n_docs"])
            avgdl = float(terms[0]["total_len"]) / n_docs
            found: dict[str, Postings] = {}
            for t in terms:
                term = t["term"]
                if t["packed"] is not None:
                    found[term] = Postings.unpack(t["ver"], t["packed"])
                    self._postings.put(store_id, term, found[term])
                elif t["df"] > 0 and (hit := cached[term]) is not None and hit.ver == t["ver"]:
                    found[term] = hit
            weights = {t["term"]: counts[t["term"]] * bm25_idf(n_docs, float(t["df"])) for t in terms}
            # query-term order, whatever was cached: the same sums to the last bit on every replica
            scored = top_k([(weights[t], found[t]) for t in counts if t in found], avgdl, k, allowed_ids)
            if not scored:
                return []
            norm = sum(weights.values()) or 1.0
            rows = await self._chunk_rows(conn, store_id, [i for i, _ in scored])
        return [
            Hit(chunk_id, r["file_id"], r["position"], r["text"], score / norm, r["attributes"])
            for chunk_id, score in scored
            if (r := rows.get(chunk_id)) is not None
        ]

    async def _chunk_rows(self, conn: Any, store_id: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Text, place and file attributes of chunks, in one statement."""
        rows = await conn.fetch(
            "SELECT c.id, c.file_id, c.position, c.text, f.attributes FROM portico_rag_chunks c "
            "LEFT JOIN portico_rag_files f ON f.store_id = $1 AND f.file_id = c.file_id "
            "WHERE c.id = ANY($2::bigint[])",
            store_id,
            ids,
        )
        attrs = _file_attributes(rows)
        out = {}
        for r in rows:
            out[r["id"]] = {
                "file_id": r["file_id"],
                "position": r["position"],
                "text": r["text"],
                "attributes": attrs[r["file_id"]],
            }
        return out
