"""Resolve a presented secret to its key and team, with a short in-memory cache.

The cache keeps the hot path free of database queries. Its TTL (``storage.key_cache_seconds``,
default 5 s) bounds how long a revoked, rotated or expired key can still be used on a replica
that did not make the change; the replica that revokes invalidates its own cache at once, and
expiry times are checked on every request. Unknown secrets are cached too (bounded), so a
client hammering with a bad key costs one query per TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from portico.auth.principal import Principal
from portico.auth.secrets import hash_secret
from portico.storage.store import Store

MAX_ENTRIES = 50_000


class KeyResolver:
    def __init__(self, store: Store, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._inflight: dict[str, asyncio.Future[Principal | None]] = {}
        self.lookups = 0

    async def resolve(self, secret: str) -> Principal | None:
        """The active or inactive key for ``secret`` (callers check ``active``), or None if unknown."""
        digest = hash_secret(secret)
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > self.clock():
            return hit[1]
        pending = self._inflight.get(digest)
        if pending is not None:  # one query per secret, however many requests wait for it
            return await asyncio.shield(pending)
        fut: asyncio.Future[Principal | None] = asyncio.get_running_loop().create_future()
        self._inflight[digest] = fut
        try:
            principal = await self._load(digest)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters get it, no "never retrieved" warning
            raise
        finally:
            del self._inflight[digest]
        fut.set_result(principal)
        if len(self._cache) >= MAX_ENTRIES:
            self._cache.clear()
        self._cache[digest] = (self.clock() + self.ttl_s, principal)
        return principal

    async def _load(self, digest: str) -> Principal | None:
        self.lookups += 1
        key = await self.store.find_key(digest)
        if key is None:
            return None
        team = await self.store.get_team(key.team_id) if key.team_id else None
        return Principal.of(key, team)

    def invalidate(self, key_id: str | None = None) -> None:
        """Forget ``key_id`` (or everything) now: used after revoke / rotate on this replica."""
        if key_id is None:
            self._cache.clear()
            return
        for digest in [d for d, (_, p) in self._cache.items() if p is not None and p.key.id == key_id]:
            del self._cache[digest]
