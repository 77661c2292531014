"""Redis backends shared by replicas: exact payloads with TTL + LRU bound, and semantic entries.

Semantic entries live in one Redis stream per scope (vector, text, answer key, expiry).
Each replica mirrors the streams it reads into an in-process index and catches up with one
``XRANGE`` from its last seen id per lookup, so every replica sees every entry without a
vector module in Redis. Eviction is LRU by a sorted set; the Lua scripts touch keys not
listed in KEYS, so this targets a single Redis (or one hash slot), not Redis Cluster.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import numpy as np
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from portico.cache.memory import MemoryVectorStore
from portico.cache.protocols import CacheUnavailable, Candidate, SemanticEntry, Vector

T = TypeVar("T")

_SET = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if extra > 0 then
  local old = redis.call('ZPOPMIN', KEYS[2], extra)
  for i = 1, #old, 2 do redis.call('DEL', old[i]) end
end
return 1
"""

_GET = """
local v = redis.call('GET', KEYS[1])
if v then redis.call('ZADD', KEYS[2], 'XX', ARGV[1], KEYS[1]) else redis.call('ZREM', KEYS[2], KEYS[1]) end
return v
"""


async def _guard(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except (RedisError, OSError) as exc:
        raise CacheUnavailable(f"redis: {exc}") from exc


class RedisExactStore:
    def __init__(self, client: aioredis.Redis, prefix: str, max_entries: int) -> None:
        self._redis = client
        self._prefix = prefix + "x:"
        self._lru = prefix + "lru"
        self._max = max_entries
        self._set = client.register_script(_SET)
        self._get = client.register_script(_GET)

    async def get(self, key: str) -> bytes | None:
        raw: Any = await _guard(lambda: self._get(keys=[self._prefix + key, self._lru], args=[time.time()]))
        return bytes(raw) if raw is not None else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        await _guard(
            lambda: self._set(keys=[self._prefix + key, self._lru], args=[value, ttl_ms, time.time(), self._max])
        )

    async def delete(self, key: str) -> None:
        await _guard(lambda: self._redis.delete(self._prefix + key))

    async def aclose(self) -> None:
        await self._redis.aclose()


class RedisVectorStore:
    """Streams in Redis as the shared truth; an in-process mirror answers the search."""

    def __init__(self, client: aioredis.Redis, prefix: str, max_entries: int, ann_min_entries: int = 2048) -> None:
        self._redis = client
        self._prefix = prefix + "s:"
        self._max = max_entries
        self._mirror = MemoryVectorStore(max_entries, ann_min_entries)
        self._seen: dict[str, bytes] = {}

    async def add(self, scope: str, entry: SemanticEntry) -> None:
        fields: dict[Any, Any] = {
            "k": entry.entry_key,
            "t": entry.text.encode(),
            "v": np.asarray(entry.vector, dtype=np.float32).tobytes(),
            "e": repr(entry.expires_at),
            "g": entry.group.encode(),
        }
        stream = self._prefix + scope
        ttl_ms = max(1, int((entry.expires_at - time.time()) * 1000))

        async def write() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xadd(stream, fields, maxlen=self._max, approximate=True)
                pipe.pexpire(stream, ttl_ms, gt=True)
                pipe.pexpire(stream, ttl_ms, nx=True)
                await pipe.execute()

        await _guard(write)

    async def search(self, scope: str, vector: Vector, k: int) -> list[Candidate]:
        await _guard(lambda: self._catch_up(scope))
        return await self._mirror.search(scope, vector, k)

    async def entries(self, scope: str) -> list[SemanticEntry]:
        await _guard(lambda: self._catch_up(scope))
        return await self._mirror.entries(scope)

    async def size(self, scope: str) -> int:
        await _guard(lambda: self._catch_up(scope))
        return await self._mirror.size(scope)

    async def _catch_up(self, scope: str) -> None:
        stream = self._prefix + scope
        while True:
            last = self._seen.get(scope)
            start = b"(" + last if last else "-"
            rows: list[tuple[bytes, dict[bytes, bytes]]] = await self._redis.xrange(
                stream, min=start, max="+", count=1000
            )  # type: ignore[assignment]
            for entry_id, fields in rows:
                self._mirror.add_now(scope, _entry(fields))
                self._seen[scope] = entry_id
            if len(rows) < 1000:
                return

    async def aclose(self) -> None:
        await self._mirror.aclose()
        await self._redis.aclose()


def _entry(fields: dict[bytes, bytes]) -> SemanticEntry:
    return SemanticEntry(
        entry_key=fields[b"k"].decode(),
        text=fields[b"t"].decode(),
        vector=np.frombuffer(fields[b"v"], dtype=np.float32).copy(),
        expires_at=float(fields[b"e"]),
        group=fields.get(b"g", b"").decode(),  # entries written before answer groups have none
    )
