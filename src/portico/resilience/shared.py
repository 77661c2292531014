"""Circuit-breaker state shared between replicas.

Only transitions travel (a replica opens or closes a circuit: one write); every replica
reads the shared table every ``sync_interval`` seconds in the background. Per-request
outcomes stay local, so the hot path never waits on Redis. Records carry wall-clock times
(replicas do not share a monotonic clock) and a newer local transition wins over an older
shared one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import orjson

from portico.resilience.breaker import CircuitState, Clock
from portico.resilience.deployments import Deployment

log = logging.getLogger("portico.resilience")


@dataclass(frozen=True, slots=True)
class SharedRecord:
    state: str  # "open" | "closed"
    until: float  # wall clock; meaningful when open
    at: float  # wall clock of the transition


class BreakerStore(Protocol):
    async def publish(self, deployment: str, record: SharedRecord) -> None: ...

    async def read(self) -> dict[str, SharedRecord]: ...

    async def aclose(self) -> None: ...


class MemoryBreakerStore:
    """An in-process table (tests; several callers sharing one instance act like replicas)."""

    def __init__(self) -> None:
        self.records: dict[str, SharedRecord] = {}

    async def publish(self, deployment: str, record: SharedRecord) -> None:
        self.records[deployment] = record

    async def read(self) -> dict[str, SharedRecord]:
        return dict(self.records)

    async def aclose(self) -> None:
        return None


class RedisBreakerStore:
    """One Redis hash: field = deployment id, value = JSON record."""

    def __init__(self, client: object, key: str) -> None:
        from redis.asyncio import Redis

        assert isinstance(client, Redis)
        self._redis = client
        self._key = key

    @classmethod
    def from_url(cls, url: str, key: str) -> RedisBreakerStore:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0), key)

    async def publish(self, deployment: str, record: SharedRecord) -> None:
        value = orjson.dumps({"state": record.state, "until": record.until, "at": record.at})
        await self._redis.hset(self._key, deployment, value)

    async def read(self) -> dict[str, SharedRecord]:
        raw = await self._redis.hgetall(self._key)
        out: dict[str, SharedRecord] = {}
        for field, value in raw.items():
            data = orjson.loads(value)
            name = field.decode() if isinstance(field, bytes) else str(field)
            out[name] = SharedRecord(str(data["state"]), float(data["until"]), float(data["at"]))
        return out

    async def aclose(self) -> None:
        await self._redis.aclose()


class BreakerSync:
    """Publishes local open/close transitions and applies newer remote ones."""

    def __init__(
        self,
        deployments: Callable[[], list[Deployment]],
        store: BreakerStore,
        *,
        interval: float,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        self._deployments = deployments
        self.store = store
        self.interval = interval
        self._clock = clock
        self._wall = wall
        self._last: dict[str, float] = {}  # deployment -> wall time of its last transition we know of
        self._applying = False
        self._pending: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    def on_transition(self, d: Deployment, state: CircuitState) -> None:
        """Breaker listener (called synchronously on the request path: schedules one write)."""
        if self._applying or state is CircuitState.HALF_OPEN or d.breaker is None:
            return
        now = self._wall()
        self._last[d.id] = now
        if state is CircuitState.OPEN:
            record = SharedRecord("open", now + max(0.0, d.breaker.opened_until - self._clock()), now)
        else:
            record = SharedRecord("closed", 0.0, now)
        try:
            task = asyncio.get_running_loop().create_task(self._publish(d.id, record))
        except RuntimeError:  # no loop (a synchronous test): nothing to share with
            return
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, deployment: str, record: SharedRecord) -> None:
        try:
            await self.store.publish(deployment, record)
        except Exception as exc:
            log.warning("could not publish circuit state of %s: %s", deployment, exc)

    async def sync_once(self) -> None:
        """Read the shared table and apply records newer than what this replica knows."""
        records = await self.store.read()
        now_wall, now = self._wall(), self._clock()
        self._applying = True
        try:
            for d in self._deployments():
                rec = records.get(d.id)
                if rec is None or d.breaker is None or rec.at <= self._last.get(d.id, 0.0):
                    continue
                self._last[d.id] = rec.at
                if rec.state == "open" and rec.until > now_wall:
                    d.breaker.trip(until=now + (rec.until - now_wall))
                elif rec.state == "closed" and d.breaker.state is not CircuitState.CLOSED:
                    d.breaker.close()
        finally:
            self._applying = False

    async def _run(self) -> None:
        while True:
            try:
                await self.sync_once()
            except Exception as exc:
                log.warning("circuit state sync failed: %s", exc)
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.store.aclose()
