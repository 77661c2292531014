"""Single flight: concurrent identical misses wait for the first call instead of all going upstream."""

from __future__ import annotations

import asyncio


class SingleFlight:
    """Per-process registry of keys with a call in flight (one event loop)."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Event] = {}

    def join(self, key: str) -> asyncio.Event | None:
        """None: the caller leads and must ``release(key)``; else the event to wait for."""
        event = self._inflight.get(key)
        if event is None:
            self._inflight[key] = asyncio.Event()
        return event

    def release(self, key: str) -> None:
        event = self._inflight.pop(key, None)
        if event is not None:
            event.set()

    def __len__(self) -> int:
        return len(self._inflight)
