"""Runs ``Store.maintain`` at start-up and then every ``maintenance_interval_s``: partitions
are created ahead of the clock and rows past the retention limit are dropped."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from portico.storage.store import Store

log = logging.getLogger("portico.storage.maintenance")


class Maintenance:
    def __init__(self, store: Store, interval_s: float) -> None:
        self.store = store
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def run_once(self) -> None:
        try:
            report = await self.store.maintain()
        except Exception as exc:  # the next round retries; serving must not stop for this
            log.warning("storage maintenance failed: %s", exc)
            return
        if report.get("created") or report.get("dropped") or report.get("deleted"):
            log.info("storage maintenance: %s", report)

    async def start(self) -> None:
        await self.run_once()
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="portico-storage-maintenance")

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)
                return
            await self.run_once()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
