"""Circuit state shared between replicas: in memory (contract) and in Redis on 127.0.0.1:6379."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from portico.resilience import BreakerStore, BreakerSync, CircuitState, MemoryBreakerStore, ModelCaller
from portico.resilience.shared import RedisBreakerStore

from .conftest import FakeClock, openai, settings

MODELS = [openai("m", "http://127.0.0.1:9/v1")]
RES = {"defaults": {"breaker": {"min_requests": 1, "open_for": 10}}}


class Wall:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def replica(make_caller: Any, store: BreakerStore, clock: FakeClock, wall: Wall) -> tuple[ModelCaller, BreakerSync]:
    caller: ModelCaller = make_caller(settings(MODELS, RES), clock=clock)
    sync = BreakerSync(lambda: list(caller.all_deployments()), store, interval=1.0, clock=clock, wall=wall)
    caller.on_transition(sync.on_transition)
    return caller, sync


async def flush(sync: BreakerSync) -> None:
    await sync.stop()  # waits for pending publishes; the stores here tolerate aclose


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[BreakerStore]:
    if request.param == "memory":
        yield MemoryBreakerStore()
        return
    redis = pytest.importorskip("redis.asyncio")
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        pytest.skip("no Redis on 127.0.0.1:6379")
    key = f"portico-test:breaker:{uuid.uuid4().hex}"
    yield RedisBreakerStore(client, key)
    probe = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    await probe.delete(key)
    await probe.aclose()


class KeepOpen:
    """Wraps a store so that replicas sharing it do not close it under each other."""

    def __init__(self, inner: BreakerStore) -> None:
        self.inner = inner

    async def publish(self, deployment: str, record: Any) -> None:
        await self.inner.publish(deployment, record)

    async def read(self) -> Any:
        return await self.inner.read()

    async def aclose(self) -> None:
        return None


async def test_an_open_circuit_travels_to_the_other_replica_and_so_does_recovery(
    store: BreakerStore, make_caller: Any
) -> None:
    clock_a, clock_b, wall = FakeClock(), FakeClock(), Wall()
    shared = KeepOpen(store)
    a, sync_a = replica(make_caller, shared, clock_a, wall)
    b, sync_b = replica(make_caller, shared, clock_b, wall)
    da, db = next(a.all_deployments()), next(b.all_deployments())
    assert da.breaker is not None and db.breaker is not None
    da.breaker.failure()  # replica A sees the deployment fail and opens
    assert da.breaker.current() is CircuitState.OPEN
    await flush(sync_a)
    await sync_b.sync_once()
    assert db.breaker.current() is CircuitState.OPEN  # B never sent it a request
    clock_b.advance(9.9)
    assert db.breaker.current() is CircuitState.OPEN
    clock_b.advance(0.2)
    assert db.breaker.current() is CircuitState.HALF_OPEN  # the shared until, not a fresh period
    # B's probe succeeds and closes; A learns it
    wall.now += 11
    assert db.breaker.allow()
    db.breaker.success()
    await flush(sync_b)
    await sync_a.sync_once()
    assert da.breaker.current() is CircuitState.CLOSED
    # an old record never overrides a newer local transition
    wall.now += 1
    da.breaker.failure()
    await sync_a.sync_once()
    assert da.breaker.current() is CircuitState.OPEN
    await store.aclose()


async def test_gateways_with_the_redis_backend_share_an_open_circuit() -> None:
    import asyncio
    import time

    from portico.assembly import assemble

    redis = pytest.importorskip("redis.asyncio")
    probe = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        await probe.ping()
    except Exception:
        await probe.aclose()
        pytest.skip("no Redis on 127.0.0.1:6379")
    key = f"portico-test:breaker:{uuid.uuid4().hex}"
    shared = {"backend": "redis", "key_prefix": key, "sync_interval": 0.05}
    res = {"shared": shared, "defaults": {"breaker": {"min_requests": 1, "open_for": 30}}}
    s = settings([{"name": "m", "provider": "echo"}], res)
    a, b = assemble(s), assemble(s)
    await a.start()
    await b.start()
    try:
        da, db = next(a.caller.all_deployments()), next(b.caller.all_deployments())
        assert da.breaker is not None and db.breaker is not None
        da.breaker.failure()
        end = time.monotonic() + 3
        while db.breaker.current() is not CircuitState.OPEN and time.monotonic() < end:
            await asyncio.sleep(0.02)  # the replica's background sync runs every 50 ms
        assert db.breaker.current() is CircuitState.OPEN
        assert 29 < db.breaker.opened_until - time.monotonic() <= 30
    finally:
        await a.stop()
        await b.stop()
        await probe.delete(key)
        await probe.aclose()
