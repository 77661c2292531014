"""Cache lookup latency at 1k / 10k / 100k entries (exact and semantic) and embedding latency.

    .venv/bin/python bench/cache_speed.py

Semantic lookup = scoped vector search + the judge (vetoes and verifier) on the candidates,
for a query vector already embedded; embedding is timed separately. Beside it, the
baseline: a plain numpy matmul over the whole float32 matrix of the scope.
"""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np
import numpy.typing as npt

from portico.cache.judge import SemanticJudge
from portico.cache.memory import MemoryExactStore, MemoryVectorStore
from portico.cache.protocols import SemanticEntry
from portico.cache.semantic import SemanticCache
from portico.cache.settings import SemanticSettings
from portico.cache.verifier import PairVerifier

SIZES = (1_000, 10_000, 100_000)
QUERIES = 300
TOPICS = ["bread", "python", "taxes", "marathon", "guitar", "visa", "mortgage", "sourdough", "kubernetes", "chess"]


def pct(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1000, q))


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def unit(rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return out


class NoEmbedder:
    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        raise AssertionError("the speed bench passes vectors in")


async def semantic_run(n: int, rng: np.random.Generator) -> dict[str, float]:
    vectors = unit(rng.standard_normal((n, 384)).astype(np.float32))
    texts = [f"how do I get better at {TOPICS[i % len(TOPICS)]} as a beginner in my spare time" for i in range(n)]
    before = rss_mb()
    store = MemoryVectorStore(max_entries=n + 1)
    far = time.time() + 3600
    for i in range(n):
        store.add_now("scope", SemanticEntry(f"k{i}", texts[i], vectors[i], far))
    memory = rss_mb() - before
    cache = SemanticCache(store, NoEmbedder(), SemanticJudge(SemanticSettings(), PairVerifier()))
    # Queries close to a stored entry (cosine ~0.9) so the judge and verifier really run.
    picks = rng.integers(0, n, QUERIES)
    noisy = unit(vectors[picks] + 0.02 * rng.standard_normal((QUERIES, 384)).astype(np.float32))
    lookups, found = [], 0
    for j, i in enumerate(picks):
        t0 = time.perf_counter()
        await cache.lookup("scope", texts[i], vector=noisy[j])
        lookups.append(time.perf_counter() - t0)
        nearest = await store.search("scope", noisy[j], 1)  # search recall, outside the timing
        found += int(bool(nearest) and nearest[0].entry_key == f"k{i}")
    matmul = []
    for j in range(min(QUERIES, 100)):
        t0 = time.perf_counter()
        sims = vectors @ noisy[j]
        int(np.argmax(sims))
        matmul.append(time.perf_counter() - t0)
    return {"p50": pct(lookups, 50), "p95": pct(lookups, 95), "recall": found / QUERIES,
            "matmul_p95": pct(matmul, 95), "mem_mb": memory}  # fmt: skip


async def exact_run(n: int) -> dict[str, float]:
    store = MemoryExactStore(n)
    payload = b'{"id":"x","choices":[{"message":{"content":"' + b"a" * 600 + b'"}}]}'
    for i in range(n):
        await store.set(f"{i:064x}", payload, 3600)
    samples = []
    for i in range(QUERIES * 3):
        key = f"{(i * 7919) % n:064x}"
        t0 = time.perf_counter()
        await store.get(key)
        samples.append(time.perf_counter() - t0)
    redis_samples = await redis_exact(payload)
    return {"p50": pct(samples, 50), "p95": pct(samples, 95), **redis_samples}


async def redis_exact(payload: bytes) -> dict[str, float]:
    """Round trip to the shared Redis store (127.0.0.1), for scale; not part of RESULT."""
    import uuid

    import redis.asyncio as aioredis

    from portico.cache.redis_backend import RedisExactStore

    client = aioredis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"portico-bench:{uuid.uuid4().hex}:"
    try:
        store = RedisExactStore(client, prefix, 10_000)
        await store.set("k", payload, 60)
        samples = []
        for _ in range(200):
            t0 = time.perf_counter()
            await store.get("k")
            samples.append(time.perf_counter() - t0)
        return {"redis_p50": pct(samples, 50), "redis_p95": pct(samples, 95)}
    except OSError:
        return {"redis_p50": float("nan"), "redis_p95": float("nan")}
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def embed_run() -> dict[str, float]:
    from portico.embeddings import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    questions = [f"What is the best way to learn {t} if I only have {i} hours a week?" for i, t in
                 enumerate(TOPICS * 20)]  # fmt: skip
    embedder.embed(questions[:5])  # warm up
    samples = []
    for q in questions:
        t0 = time.perf_counter()
        embedder.embed([q])
        samples.append(time.perf_counter() - t0)
    return {"p50": pct(samples, 50), "p95": pct(samples, 95)}


async def main() -> None:
    rng = np.random.default_rng(5)
    emb = embed_run()
    print(f"embedding one question (MiniLM int8, 1 thread): p50 {emb['p50']:.2f} ms  p95 {emb['p95']:.2f} ms")
    print(f"\n{'entries':>8} | {'exact p50':>9} {'p95':>7} | {'redis p50':>9} {'p95':>7} | "
          f"{'semantic p50':>12} {'p95':>7} {'found':>6} | {'numpy-matmul p95':>16} | {'MB/entries':>10}")  # fmt: skip
    results: dict[int, tuple[dict[str, float], dict[str, float]]] = {}
    for n in SIZES:
        ex, sem = await exact_run(n), await semantic_run(n, rng)
        results[n] = (ex, sem)
        print(f"{n:>8} | {ex['p50']:>9.4f} {ex['p95']:>7.4f} | {ex['redis_p50']:>9.3f} {ex['redis_p95']:>7.3f} | "
              f"{sem['p50']:>12.3f} {sem['p95']:>7.3f} {sem['recall']:>6.2f} | {sem['matmul_p95']:>16.3f} | "
              f"{sem['mem_mb']:>10.0f}")  # fmt: skip
    ex, sem = results[100_000]
    print("(ms; semantic = search + vetoes + verifier, query vector given; int8 HNSW from 2048 entries a scope;")
    print(" found = share of queries whose own entry came back first)")
    print(
        f"RESULT semantic_lookup_p95_ms_100k={sem['p95']:.3f} embed_p95_ms={emb['p95']:.2f} "
        f"exact_lookup_p95_ms_100k={ex['p95']:.4f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
