"""The same contract for every backend: TTL, LRU bound, scoped vectors, replicas sharing state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import numpy as np

from portico.cache import MemoryExactStore, SemanticEntry

from .conftest import Backends, BagOfWordsEmbedder

EMB = BagOfWordsEmbedder()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> bool:
    """Poll a condition (TTL expiry needs wall time to pass); bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.01)
    return False


def entry(key: str, text: str, ttl: float = 60.0) -> SemanticEntry:
    return SemanticEntry(entry_key=key, text=text, vector=EMB.embed([text])[0], expires_at=time.time() + ttl)


async def test_exact_get_set_delete(backends: Backends) -> None:
    store = backends.exact
    assert await store.get("a") is None
    await store.set("a", b"\x00payload", 60)
    assert await store.get("a") == b"\x00payload"
    await store.set("a", b"newer", 60)
    assert await store.get("a") == b"newer"
    await store.delete("a")
    assert await store.get("a") is None


async def test_exact_entries_expire(backends: Backends) -> None:
    await backends.exact.set("short", b"x", 0.05)
    await backends.exact.set("long", b"y", 60)

    async def gone() -> bool:
        return await backends.exact.get("short") is None

    assert await eventually(gone)
    assert await backends.exact.get("long") == b"y"


async def test_exact_lru_bound(backends: Backends) -> None:
    for i in range(100):
        await backends.exact.set(f"k{i}", b"v", 60)
    assert await backends.exact.get("k0") == b"v"  # touched: now most recent
    await backends.exact.set("k100", b"v", 60)
    assert await backends.exact.get("k1") is None  # least recently used went
    assert await backends.exact.get("k0") == b"v"
    assert await backends.exact.get("k100") == b"v"


async def test_replicas_share_exact_entries(backends: Backends) -> None:
    other_exact, _ = backends.make_replica()
    await backends.exact.set("shared", b"v", 60)
    assert await other_exact.get("shared") == b"v"


async def test_vectors_are_searched_within_their_scope_only(backends: Backends) -> None:
    store = backends.vectors
    await store.add("s1", entry("e1", "how do I bake bread"))
    await store.add("s1", entry("e2", "what is the capital of france"))
    await store.add("s2", entry("e3", "how do I bake bread"))
    query = EMB.embed(["how do I bake bread"])[0]
    found = await store.search("s1", query, 4)
    assert found[0].entry_key == "e1"
    assert found[0].similarity > 0.99 and found[0].text == "how do I bake bread"
    assert {c.entry_key for c in found} <= {"e1", "e2"}
    assert [c.entry_key for c in await store.search("s2", query, 4)] == ["e3"]
    assert await store.search("nope", query, 4) == []


async def test_expired_vectors_are_not_returned(backends: Backends) -> None:
    await backends.vectors.add("s", entry("old", "a b c", ttl=-1))
    await backends.vectors.add("s", entry("new", "a b d"))
    found = await backends.vectors.search("s", EMB.embed(["a b c"])[0], 4)
    assert [c.entry_key for c in found] == ["new"]


async def test_replicas_see_each_others_vectors(backends: Backends) -> None:
    _, other = backends.make_replica()
    query = EMB.embed(["red green"])[0]
    assert await other.search("s", query, 2) == []  # mirror primed before the write
    await backends.vectors.add("s", entry("e1", "red green"))
    found = await other.search("s", query, 2)
    assert [c.entry_key for c in found] == ["e1"]
    assert np.allclose(found[0].vector, query)


async def test_memory_vector_lru_bound() -> None:
    from portico.cache import MemoryVectorStore

    store = MemoryVectorStore(max_entries=2)
    await store.add("a", entry("e1", "one"))
    await store.add("b", entry("e2", "two"))
    await store.search("a", EMB.embed(["one"])[0], 1)  # touch e1
    await store.add("c", entry("e3", "three"))
    assert len(store) == 2
    assert await store.search("b", EMB.embed(["two"])[0], 1) == []


def test_memory_exact_store_uses_its_clock() -> None:
    now = [1000.0]
    store = MemoryExactStore(10, clock=lambda: now[0])

    async def run() -> None:
        await store.set("k", b"v", 5)
        now[0] += 4.9
        assert await store.get("k") == b"v"
        now[0] += 0.2
        assert await store.get("k") is None

    asyncio.run(run())


async def test_a_scope_lists_its_entries_with_their_answer_groups(backends: Backends) -> None:
    store = backends.vectors
    for key, text, group in (("e1", "how do I bake bread", "g1"), ("e2", "bread baking at home", "g1")):
        base = entry(key, text)
        await store.add("s1", SemanticEntry(base.entry_key, base.text, base.vector, base.expires_at, group))
    await store.add("s2", entry("e3", "what is the capital of france"))
    _, other = backends.make_replica()  # a second replica lists what the first one added
    for view in (store, other):
        assert await view.size("s1") == 2 and await view.size("s2") == 1
        assert sorted((e.entry_key, e.group) for e in await view.entries("s1")) == [("e1", "g1"), ("e2", "g1")]
        assert [e.group for e in await view.entries("s2")] == [""]
    found = await other.search("s1", EMB.embed(["how do I bake bread"])[0], 1)
    assert found[0].group == "g1"
    assert await store.entries("nope") == [] and await store.size("nope") == 0
