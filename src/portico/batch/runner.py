"""The durable batch runner: one per replica; batches are leased, lines are resumable.

A replica takes a batch by lease (a conditional UPDATE in the storage database) and renews
it while it works; a replica that dies stops renewing and another takes the batch over
once the lease runs out. Every line's state lives in the database: results are committed
in groups every ``flush_ms`` and only for lines still pending, so after a ``kill -9`` the
lines whose results were committed are kept and the others run again: no custom_id is lost
and none appears twice in the output (a line may reach the upstream twice; its output
appears once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from portico.batch.execute import Identity, LineExecutor, output_line, unrun_line
from portico.batch.input import parse_input
from portico.batch.lane import Lane
from portico.batch.records import BatchRecord, Line, LineResult
from portico.batch.settings import BatchSettings
from portico.batch.store import BatchStore
from portico.errors import NotFound
from portico.files.records import FileObject

log = logging.getLogger("portico.batch")
_CHUNK = 256  # pending lines read per query
_RESULTS_CHUNK = 2000  # result lines read per query when writing the output files


class FileSink(Protocol):
    """What the runner needs of the files API (portico.files.FileService)."""

    async def content(self, owner: str, file_id: str) -> bytes: ...
    async def create(self, owner: str, purpose: str, filename: str, data: bytes) -> FileObject: ...


@dataclass(slots=True)
class _Run:
    batch_id: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)  # lease lost or shutting down
    cancel: asyncio.Event = field(default_factory=asyncio.Event)  # the client cancelled


class _GroupWriter:
    """Commits line results in groups (one transaction per ``flush_ms``).

    Closing lets the loop finish its round instead of cancelling it: a cancel landing inside a
    commit used to drop that group's results, so their lines stayed pending and ran again
    (a second ledger row and upstream call per line) when the batch was resumed.
    """

    def __init__(self, store: BatchStore, batch_id: str, interval: float) -> None:
        self.store = store
        self.batch_id = batch_id
        self.interval = interval
        self._pending: list[LineResult] = []
        self._closing = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name=f"batch-writer-{batch_id}")

    def add(self, result: LineResult) -> None:
        self._pending.append(result)

    async def _loop(self) -> None:
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                # group commit: the interval is the policy, not a wait for state
                await asyncio.wait_for(self._closing.wait(), self.interval)
            try:
                await self.flush()
            except Exception:
                log.warning("batch %s: committing line results failed; kept for the next round", self.batch_id)

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if batch:
            try:
                await self.store.finish(self.batch_id, batch)
            except BaseException:
                self._pending[:0] = batch  # kept for the next flush (also when cancelled mid-commit)
                raise

    async def close(self) -> None:
        self._closing.set()
        await self._task
        await self.flush()  # anything a failed last round kept; raises if the store is still failing


class BatchRunner:
    def __init__(
        self,
        store: BatchStore,
        files: FileSink,
        executor: LineExecutor,
        settings: BatchSettings,
        *,
        identity_of: Callable[[str], Awaitable[Identity]],
        lane: Lane,
        ready: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.files = files
        self.executor = executor
        self.settings = settings
        self.identity_of = identity_of
        self.lane = lane
        self.ready = ready
        self.clock = clock
        self.replica = f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"
        self._total = asyncio.Semaphore(settings.concurrency_total)
        self._runs: dict[str, _Run] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    # ---- lifecycle

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="portico-batch-runner")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for run in self._runs.values():
            run.stop.set()
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def wake(self) -> None:
        """A batch was created or cancelled here: look now instead of at the next poll."""
        self._wake.set()

    def cancel_requested(self, batch_id: str) -> None:
        run = self._runs.get(batch_id)
        if run is not None:
            run.cancel.set()
        self.wake()

    async def _loop(self) -> None:
        while not self.ready():
            await asyncio.sleep(self.settings.poll_seconds)  # the gateway is still loading its models
        while True:
            try:
                await self._claim()
            except Exception:
                log.exception("batch runner: claiming batches failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_seconds)
            self._wake.clear()

    async def _claim(self) -> None:
        now = self.clock()
        for batch_id in await self.store.claimable(self.replica, now):
            if batch_id in self._tasks:
                continue
            if await self.store.acquire(batch_id, self.replica, now, now + self.settings.lease_seconds):
                run = _Run(batch_id)
                self._runs[batch_id] = run
                self._tasks[batch_id] = asyncio.create_task(self._run(run), name=f"batch-{batch_id}")

    # ---- one batch

    async def _run(self, run: _Run) -> None:
        keeper = asyncio.create_task(self._keep_lease(run))
        try:
            await self._drive(run)
        except Exception:
            log.exception("batch %s: run failed; it will be resumed", run.batch_id)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            with contextlib.suppress(Exception):
                await self.store.release(run.batch_id, self.replica)
            self._runs.pop(run.batch_id, None)
            self._tasks.pop(run.batch_id, None)

    async def _keep_lease(self, run: _Run) -> None:
        every = min(1.0, self.settings.lease_seconds / 3)
        while not run.stop.is_set():
            await asyncio.sleep(every)  # lease renewal period
            now = self.clock()
            try:
                held = await self.store.acquire(run.batch_id, self.replica, now, now + self.settings.lease_seconds)
                batch = await self.store.get(run.batch_id)
            except Exception:
                log.warning("batch %s: could not renew the lease", run.batch_id, exc_info=True)
                continue
            if not held or batch is None:
                log.warning("batch %s: lease lost; stopping here", run.batch_id)
                run.stop.set()
                return
            if batch.status == "cancelling":
                run.cancel.set()

    async def _drive(self, run: _Run) -> None:
        batch = await self.store.get(run.batch_id)
        if batch is not None and batch.status == "validating":
            await self._validate(batch)
            batch = await self.store.get(run.batch_id)
        if batch is not None and batch.status in ("in_progress", "cancelling") and not run.stop.is_set():
            await self._execute(run, batch)
            batch = await self.store.get(run.batch_id)
        if batch is not None and batch.status in ("finalizing", "cancelling") and not run.stop.is_set():
            await self._finalize(batch)

    async def _validate(self, batch: BatchRecord) -> None:
        now = self.clock()
        try:
            data = await self.files.content(batch.owner, batch.input_file_id)
        except NotFound:
            error = {"code": "file_not_found", "message": "The input file is gone.", "param": None, "line": None}
            await self.store.set(batch.id, when_status=["validating"], status="failed", failed_at=now, errors=[error])
            return
        parsed = await asyncio.to_thread(
            parse_input, data, batch.endpoint, max_lines=self.settings.max_lines, max_bytes=self.settings.max_bytes
        )
        if parsed.errors:
            await self.store.set(
                batch.id, when_status=["validating"], status="failed", failed_at=now, errors=parsed.errors
            )
            return
        await self.store.add_lines(
            batch.id, parsed.lines, status="in_progress", in_progress_at=self.clock(), model=parsed.model
        )

    async def _execute(self, run: _Run, batch: BatchRecord) -> None:
        identity = await self.identity_of(batch.owner)
        per_batch = asyncio.Semaphore(self.settings.concurrency_per_batch)
        writer = _GroupWriter(self.store, batch.id, self.settings.flush_ms / 1000)
        tasks: set[asyncio.Task[None]] = set()
        expired = False
        if batch.status == "cancelling":
            run.cancel.set()

        async def one(line: Line) -> None:
            try:
                async with self.lane.turn():
                    outcome = await self.executor.run(batch.id, batch.endpoint, line, identity)
                writer.add(output_line(line, outcome))
            finally:
                per_batch.release()
                self._total.release()

        after = 0
        try:
            while not (run.stop.is_set() or run.cancel.is_set()):
                lines = await self.store.pending(batch.id, after=after, limit=_CHUNK)
                if not lines:
                    break
                for line in lines:
                    if self.clock() >= batch.expires_at:
                        expired = True
                        break
                    await per_batch.acquire()
                    await self._total.acquire()
                    if run.stop.is_set() or run.cancel.is_set():
                        per_batch.release()
                        self._total.release()
                        break
                    task = asyncio.create_task(one(line))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if expired:
                    break
                after = lines[-1].line_no
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await writer.close()
        if run.stop.is_set():
            return  # lease lost or shutting down: another run (here or elsewhere) resumes it
        if expired:
            await self._expire(batch)
        elif not run.cancel.is_set() and await self.store.count_pending(batch.id) == 0:
            await self.store.set(batch.id, when_status=["in_progress"], status="finalizing", finalizing_at=self.clock())

    async def _expire(self, batch: BatchRecord) -> None:
        """The window ended: unrun lines go to the error file as ``batch_expired``."""
        while True:
            lines = await self.store.pending(batch.id, after=0, limit=_RESULTS_CHUNK)
            if not lines:
                break
            message = "This request could not be executed before the completion window expired."
            await self.store.finish(batch.id, [unrun_line(ln, "batch_expired", message) for ln in lines])
        now = self.clock()
        await self.store.set(
            batch.id, when_status=["in_progress"], status="finalizing", finalizing_at=now, expired_at=now
        )

    async def _finalize(self, batch: BatchRecord) -> None:
        output = await self._collect(batch.id, ok=True)
        errors = await self._collect(batch.id, ok=False)
        output_id = error_id = None
        if output:
            output_id = (await self.files.create(batch.owner, "batch_output", f"{batch.id}_output.jsonl", output)).id
        if errors:
            error_id = (await self.files.create(batch.owner, "batch_output", f"{batch.id}_error.jsonl", errors)).id
        now = self.clock()
        if batch.status == "cancelling":
            final: dict[str, Any] = {"status": "cancelled", "cancelled_at": now}
        elif batch.expired_at is not None:
            final = {"status": "expired"}
        else:
            final = {"status": "completed", "completed_at": now}
        await self.store.set(
            batch.id, when_status=[batch.status], output_file_id=output_id, error_file_id=error_id, **final
        )
        log.info("batch %s %s: %d ok, %d failed", batch.id, final["status"], batch.completed, batch.failed)

    async def _collect(self, batch_id: str, *, ok: bool) -> bytes:
        parts: list[str] = []
        after = 0
        while True:
            rows = await self.store.results(batch_id, ok=ok, after=after, limit=_RESULTS_CHUNK)
            if not rows:
                break
            parts.extend(r for _, r in rows)
            after = rows[-1][0]
        return ("\n".join(parts) + "\n").encode() if parts else b""
