"""``GET /admin/circuits`` (and a reset), plus ``attach``: plugs resilience into a Gateway."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from portico.config import AuthSettings, Settings
from portico.errors import AuthenticationFailed, NotFound
from portico.resilience.caller import ModelCaller
from portico.resilience.deployments import Deployment
from portico.resilience.shared import BreakerSync, RedisBreakerStore


def _check_master(auth: AuthSettings, authorization: str | None) -> None:
    if auth.master_key is None:  # open dev mode
        return
    value = authorization or ""
    token = value[7:] if value[:7].lower() == "bearer " else ""
    if not hmac.compare_digest(token.encode(), auth.master_key.get_secret_value().encode()):
        raise AuthenticationFailed("/admin/circuits requires the master key (Authorization: Bearer ...).")


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


def circuits_router(caller: ModelCaller, auth: AuthSettings, clock: Callable[[], float] = time.monotonic) -> Any:
    """A FastAPI APIRouter (FastAPI is imported here, off the hot path's import chain)."""
    from fastapi import APIRouter, Header

    router = APIRouter(prefix="/admin/circuits", tags=["admin"])

    @router.get("")
    async def list_circuits(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        _check_master(auth, authorization)
        now = clock()
        return {"deployments": [describe(d, now) for d in caller.all_deployments()]}

    @router.post("/{deployment_id}/reset")
    async def reset_circuit(deployment_id: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        _check_master(auth, authorization)
        for d in caller.all_deployments():
            if d.id == deployment_id:
                if d.breaker is not None:
                    d.breaker.close()
                d.cooldown_until = 0.0
                return describe(d, clock())
        raise NotFound(f"No deployment '{deployment_id}'.", code="deployment_not_found")

    return router


class GatewayLike(Protocol):
    settings: Settings
    caller: ModelCaller
    extra_routers: list[Any]
    on_start: list[Callable[[], Awaitable[None]]]
    on_stop: list[Callable[[], Awaitable[None]]]


def attach(gateway: GatewayLike) -> None:
    """Mount ``/admin/circuits`` and, when configured, the shared (Redis) breaker state."""
    gateway.extra_routers.append(circuits_router(gateway.caller, gateway.settings.auth))
    shared = gateway.settings.resilience.shared
    if shared.backend == "redis" and gateway.settings.resilience.enabled:
        caller = gateway.caller
        store = RedisBreakerStore.from_url(shared.redis_url, shared.key_prefix)
        sync = BreakerSync(lambda: list(caller.all_deployments()), store, interval=shared.sync_interval)
        caller.on_transition(sync.on_transition)
        gateway.on_start.append(sync.start)
        gateway.on_stop.append(sync.stop)
