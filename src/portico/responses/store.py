"""The ResponseStore seam: stored responses per owner (a key), with an expiry.

Two implementations pass the same contract tests: :class:`MemoryResponseStore` (bounded,
per process, used when ``storage.enabled`` is false) and ``SqlResponseStore``
(SQLite or PostgreSQL, the ``portico_responses`` table).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import orjson


@dataclass(slots=True)
class StoredResponse:
    """A response as stored: the object clients read back, the input items of the request
    and the whole conversation up to and including its output (chat messages), which a
    follow-up with ``previous_response_id`` continues from."""

    id: str
    owner: str
    created_at: float
    expires_at: float
    body: dict[str, Any]
    input_items: list[dict[str, Any]]
    conversation: list[dict[str, Any]]


class ResponseStore(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def save(self, record: StoredResponse) -> None: ...

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        """The response if it exists, is ``owner``'s and has not expired; else None."""

    async def delete(self, owner: str, response_id: str) -> bool: ...

    async def purge_expired(self, now: float | None = None) -> int: ...


class _Packed(NamedTuple):
    owner: str
    expires_at: float
    data: bytes


class MemoryResponseStore:
    """In-process and bounded: past ``max_items`` the oldest responses are dropped. Records
    are kept serialised: one bytes object each instead of hundreds of small dicts and lists
    the garbage collector would walk on every full collection."""

    def __init__(self, max_items: int = 10_000) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, _Packed] = OrderedDict()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def save(self, record: StoredResponse) -> None:
        data = orjson.dumps([record.created_at, record.body, record.input_items, record.conversation])
        self._items[record.id] = _Packed(record.owner, record.expires_at, data)
        self._items.move_to_end(record.id)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        packed = self._items.get(response_id)
        if packed is None or packed.owner != owner:
            return None
        if packed.expires_at <= time.time():
            del self._items[response_id]
            return None
        created_at, body, items, conversation = orjson.loads(packed.data)
        return StoredResponse(response_id, owner, created_at, packed.expires_at, body, items, conversation)

    async def delete(self, owner: str, response_id: str) -> bool:
        record = await self.get(owner, response_id)
        if record is None:
            return False
        del self._items[response_id]
        return True

    async def purge_expired(self, now: float | None = None) -> int:
        # Saved in creation order with one retention, so the expired ones are at the front.
        cutoff = time.time() if now is None else now
        dead = 0
        while self._items:
            oldest = next(iter(self._items.values()))
            if oldest.expires_at > cutoff:
                break
            self._items.popitem(last=False)
            dead += 1
        return dead
