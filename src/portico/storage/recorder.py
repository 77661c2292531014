"""The background writer of request records: batches ledger+audit rows into the Store.

The request path only appends to the journal (``durability: wal``) or enqueues; one task
inserts batches every ``flush_interval_ms`` (group commit), so the database sees one
transaction per batch instead of one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import orjson

from portico.storage.journal import Journal, orphan_segments
from portico.storage.records import RequestRecord
from portico.storage.settings import StorageSettings
from portico.storage.store import Store

log = logging.getLogger("portico.storage.recorder")

_RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


_FIELDS = frozenset(RequestRecord.__dataclass_fields__)


def _parse(line: bytes) -> RequestRecord | None:
    """A journal line as a record; fields of another version are ignored, garbage is skipped."""
    try:
        data = orjson.loads(line)
        return RequestRecord(**{k: v for k, v in data.items() if k in _FIELDS})
    except (orjson.JSONDecodeError, TypeError, AttributeError):
        log.warning("skipping an unreadable journal line (%d bytes)", len(line))
        return None


class Recorder:
    """Makes request records durable before the response is released, and stores them in batches."""

    def __init__(self, store: Store, settings: StorageSettings) -> None:
        self.store = store
        self.settings = settings
        self.journal = Journal(settings.wal_dir) if settings.durability == "wal" else None
        # (record, journal segment or -1, future to resolve on commit for durability=commit)
        self._queue: list[tuple[RequestRecord, int, asyncio.Future[None] | None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.replayed = 0
        self.written = 0

    async def start(self) -> None:
        """Replay journals left by dead processes, then start the background writer."""
        self.replayed = await self.replay(Path(self.settings.wal_dir))
        if self.journal is not None:
            self.journal.open()
        self._task = asyncio.create_task(self._run(), name="portico-recorder")

    async def replay(self, directory: Path) -> int:
        count = 0
        for path, lines in orphan_segments(directory):
            records = [r for r in map(_parse, lines) if r is not None]
            for i in range(0, len(records), self.settings.batch_size):
                await self.store.write_records(records[i : i + self.settings.batch_size])
            count += len(records)
            path.unlink(missing_ok=True)
            log.info("replayed %d request records from %s", len(records), path.name)
        return count

    async def record(self, rec: RequestRecord) -> None:
        """Return once ``rec`` is as durable as ``storage.durability`` asks."""
        if self.journal is not None:
            segment = await self.journal.append(orjson.dumps(rec))
            self._enqueue(rec, segment, None)
        elif self.settings.durability == "commit":
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._enqueue(rec, -1, fut)
            self._wake.set()
            await fut
        else:
            self._enqueue(rec, -1, None)

    def _enqueue(self, rec: RequestRecord, segment: int, fut: asyncio.Future[None] | None) -> None:
        self._queue.append((rec, segment, fut))
        if len(self._queue) >= self.settings.batch_size:
            self._wake.set()

    async def _run(self) -> None:
        interval = self.settings.flush_interval_ms / 1000
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            await self._flush_all()

    async def _flush_all(self) -> None:
        attempt = 0
        while self._queue:
            batch = self._queue[: self.settings.batch_size]
            try:
                await self.store.write_records([r for r, _, _ in batch])
            except Exception as exc:
                delay = _RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)]
                log.warning("storing %d request records failed (%s); retrying in %.1fs", len(batch), exc, delay)
                attempt += 1
                if self._closing and attempt > 3:
                    return
                await asyncio.sleep(delay)
                continue
            attempt = 0
            del self._queue[: len(batch)]
            self.written += len(batch)
            counts: dict[int, int] = {}
            for _, seg, fut in batch:
                counts[seg] = counts.get(seg, 0) + 1
                if fut is not None and not fut.done():
                    fut.set_result(None)
            if self.journal is not None:
                for seg, n in counts.items():
                    self.journal.committed(seg, n)

    async def flush(self) -> None:
        """Store everything queued now (admin reports and tests read the database)."""
        await self._flush_all()

    async def stop(self) -> None:
        """Store everything queued, then close the journal (kept on disk if the database failed)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._flush_all()
        if self.journal is not None:
            self.journal.close(all_committed=not self._queue)
