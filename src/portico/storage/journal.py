"""A local write-ahead journal of request records: JSONL segments, fsynced by group commit.

Concurrent appends that arrive while a write+fsync is running share the next one, so the
fsync cost is paid once per batch, not once per request. Each process owns its segments
(an exclusive ``flock``); a segment nobody holds belongs to a process that died, and is
replayed into the database at the next start-up (records are idempotent on request id).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("portico.storage.journal")

SEGMENT_BYTES = 16 * 1024 * 1024
SUFFIX = ".wal.jsonl"


@dataclass(slots=True)
class _Segment:
    path: Path
    fd: int
    size: int = 0
    pending: int = 0  # records written here and not yet committed to the database


def orphan_segments(directory: Path) -> Iterator[tuple[Path, list[bytes]]]:
    """Segments not held by a live process, with their complete lines (a torn tail is dropped)."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*" + SUFFIX)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            data = path.read_bytes()
            lines = data.split(b"\n")
            yield path, [ln for ln in lines[:-1] if ln]  # the last piece is empty or torn
        finally:
            os.close(fd)


class Journal:
    """Append-only, group-committed JSONL journal; ``append`` returns once the line is on disk."""

    def __init__(self, directory: str | os.PathLike[str], *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self._segments: dict[int, _Segment] = {}
        self._current = -1
        self._buf: list[bytes] = []
        self._waiters: list[asyncio.Future[int]] = []
        self._flushing = False
        self._executor: ThreadPoolExecutor | None = None
        self._tag = f"{os.getpid()}-{time.time_ns()}"
        self.fsyncs = 0

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portico-wal")
        self._rotate()

    def _rotate(self) -> None:
        self._current += 1
        path = self.directory / f"{self._tag}-{self._current:06d}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._segments[self._current] = _Segment(path, fd)
        self._forget_done()

    async def append(self, line: bytes) -> int:
        """Write ``line`` (no newline) durably; returns the segment id it landed in."""
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._buf.append(line)
        self._waiters.append(fut)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return await fut

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._buf:
                buf, waiters = self._buf, self._waiters
                self._buf, self._waiters = [], []
                seg = self._segments[self._current]
                data = b"\n".join(buf) + b"\n"
                try:
                    await loop.run_in_executor(self._executor, _write_fsync, seg.fd, data)
                except OSError as exc:
                    for w in waiters:
                        if not w.done():
                            w.set_exception(exc)
                    continue
                self.fsyncs += 1
                seg.size += len(data)
                seg.pending += len(buf)
                sid = self._current
                if seg.size >= self.segment_bytes:
                    self._rotate()
                for w in waiters:
                    if not w.done():
                        w.set_result(sid)
        finally:
            self._flushing = False

    def committed(self, segment_id: int, n: int = 1) -> None:
        """``n`` records of ``segment_id`` are in the database; finished old segments are deleted."""
        seg = self._segments.get(segment_id)
        if seg is not None:
            seg.pending -= n
            self._forget_done()

    def _forget_done(self) -> None:
        for sid in [s for s in self._segments if s != self._current]:
            seg = self._segments[sid]
            if seg.pending <= 0:
                _drop(seg)
                del self._segments[sid]

    def close(self, *, all_committed: bool) -> None:
        """Close the files; delete them only if every record they hold is in the database."""
        for seg in self._segments.values():
            if all_committed or seg.pending <= 0:
                _drop(seg)
            else:
                os.close(seg.fd)
        self._segments.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


def _write_fsync(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fdatasync(fd)  # flushes the data and the size, not the mtime


def _drop(seg: _Segment) -> None:
    try:
        seg.path.unlink()
    except FileNotFoundError:
        log.debug("journal segment %s already gone", seg.path)
    os.close(seg.fd)
