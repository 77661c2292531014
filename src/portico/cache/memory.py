"""In-process backends: an LRU dict for exact entries, per-scope vector indexes for semantic ones."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from portico.cache.protocols import Candidate, SemanticEntry, Vector
from portico.cache.scope_index import ScopeIndex

Clock = Callable[[], float]


class MemoryExactStore:
    """LRU over at most ``max_entries`` items, each with its own expiry."""

    def __init__(self, max_entries: int, clock: Clock = time.time) -> None:
        self._max = max_entries
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._items[key] = (self._clock() + ttl_seconds, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def aclose(self) -> None:
        self._items.clear()


class MemoryVectorStore:
    """Scoped vector indexes with one global LRU bound and per-entry expiry."""

    def __init__(self, max_entries: int, ann_min_entries: int = 2048, clock: Clock = time.time) -> None:
        self._max = max_entries
        self._ann_min = ann_min_entries
        self._clock = clock
        self._scopes: dict[str, ScopeIndex] = {}
        self._lru: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._lru)

    async def add(self, scope: str, entry: SemanticEntry) -> None:
        self.add_now(scope, entry)

    def add_now(self, scope: str, entry: SemanticEntry) -> None:
        index = self._scopes.get(scope)
        if index is None:
            index = self._scopes[scope] = ScopeIndex(self._ann_min)
        index.put(entry)
        self._lru[(scope, entry.entry_key)] = None
        self._lru.move_to_end((scope, entry.entry_key))
        while len(self._lru) > self._max:
            old_scope, old_key = self._lru.popitem(last=False)[0]
            self._remove(old_scope, old_key)

    async def search(self, scope: str, vector: Vector, k: int) -> list[Candidate]:
        index = self._scopes.get(scope)
        if index is None:
            return []
        now = self._clock()
        found: list[Candidate] = []
        for entry, similarity in index.nearest(vector, k):
            if entry.expires_at <= now:
                self._lru.pop((scope, entry.entry_key), None)
                self._remove(scope, entry.entry_key)
                continue
            self._lru.move_to_end((scope, entry.entry_key))
            found.append(Candidate(entry.entry_key, entry.text, entry.vector, similarity, entry.group))
        return found

    async def entries(self, scope: str) -> list[SemanticEntry]:
        index = self._scopes.get(scope)
        now = self._clock()
        return [] if index is None else [e for e in index.entries() if e.expires_at > now]

    async def size(self, scope: str) -> int:
        index = self._scopes.get(scope)
        return 0 if index is None else len(index)

    def _remove(self, scope: str, entry_key: str) -> None:
        index = self._scopes.get(scope)
        if index is None:
            return
        index.remove(entry_key)
        if not len(index):
            del self._scopes[scope]

    async def aclose(self) -> None:
        self._scopes.clear()
        self._lru.clear()
