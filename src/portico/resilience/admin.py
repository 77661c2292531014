"""``GET /admin/circuits`` (and a reset), and resilience as a feature (that router, shared breaker state)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from portico.errors import NotFound
from portico.feature import Access, Feature, Mount
from portico.resilience.caller import ModelCaller
from portico.resilience.deployments import Deployment
from portico.resilience.settings import ResilienceSettings
from portico.resilience.shared import BreakerSync, RedisBreakerStore


def describe(d: Deployment, now: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "deployment": d.id,
        "model": d.name,
        "in_flight": d.in_flight,
        "latency_ms": round(d.latency * 1000, 3),
        "cooldown_seconds": round(max(0.0, d.cooldown_until - now), 3),
        "usable": d.usable(now),
    }
    if d.breaker is None:
        out["state"] = "disabled"
    else:
        out.update(d.breaker.snapshot())
    return out


def circuits_router(caller: ModelCaller, clock: Callable[[], float] = time.monotonic) -> Any:
    """A FastAPI APIRouter (FastAPI is imported here, off the hot path's import chain); mounted
    with ``Access.ADMIN``, so the door lets only the master key in."""
    from fastapi import APIRouter

    router = APIRouter(prefix="/admin/circuits", tags=["admin"])

    @router.get("")
    async def list_circuits() -> dict[str, Any]:
        now = clock()
        return {"deployments": [describe(d, now) for d in caller.all_deployments()]}

    @router.post("/{deployment_id}/reset")
    async def reset_circuit(deployment_id: str) -> dict[str, Any]:
        for d in caller.all_deployments():
            if d.id == deployment_id:
                if d.breaker is not None:
                    d.breaker.close()
                d.cooldown_until = 0.0
                return describe(d, clock())
        raise NotFound(f"No deployment '{deployment_id}'.", code="deployment_not_found")

    return router


def resilience_feature(settings: ResilienceSettings, caller: ModelCaller) -> Feature:
    """``/admin/circuits`` and, when configured, the shared (Redis) breaker state."""
    mount = Mount(circuits_router(caller), Access.ADMIN)
    shared = settings.shared
    if shared.backend != "redis" or not settings.enabled:
        return Feature("resilience", mounts=(mount,))
    store = RedisBreakerStore.from_url(shared.redis_url, shared.key_prefix)
    sync = BreakerSync(lambda: list(caller.all_deployments()), store, interval=shared.sync_interval)
    caller.on_transition(sync.on_transition)
    return Feature("resilience", mounts=(mount,), on_start=(sync.start,), on_stop=(sync.stop,))
