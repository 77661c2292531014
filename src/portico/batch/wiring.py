"""Plug the Batch API into a Gateway: the interactive meter in front of the chain, the runner's
start/stop hooks, and the /v1/batches router. On when the files API is (it reads input files
from it and writes output files to it), unless ``batch.enabled`` is false."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.auth.principal import Principal
from portico.batch.execute import Identity, LineExecutor
from portico.batch.lane import InteractiveMeter, Lane
from portico.batch.routes import batches_router
from portico.batch.runner import BatchRunner
from portico.batch.service import BatchService
from portico.batch.store import BatchStore
from portico.files.access import MASTER, OwnerResolver
from portico.files.records import ANONYMOUS

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.files.service import FileService
    from portico.gateway import Gateway

# Endpoints a batch line can call (the others are not routed through the pipeline in-process yet).
ENDPOINTS = ("/v1/chat/completions",)


def install_batch(gateway: Gateway, controls: Controls | None, files: FileService | None) -> BatchService | None:
    settings = gateway.settings.batch
    if files is None or settings.enabled is False:
        return None
    lane = Lane(busy_concurrency=settings.busy_concurrency, yield_max_s=settings.yield_max_ms / 1000)
    gateway.stages.insert(0, InteractiveMeter(lane))
    store = BatchStore(files.catalog.engine)

    async def identity_of(owner: str) -> Identity:
        if owner in (ANONYMOUS, MASTER) or controls is None:
            return owner
        key = await controls.store.get_key(owner)
        if key is None:
            return "unknown"  # refused when authentication is on
        team = await controls.store.get_team(key.team_id) if key.team_id else None
        return Principal.of(key, team)

    runner = BatchRunner(
        store,
        files,
        LineExecutor(gateway),
        settings,
        identity_of=identity_of,
        lane=lane,
        ready=lambda: gateway.started,
    )
    service = BatchService(store, files, runner, settings, endpoints=ENDPOINTS)
    gateway.on_start.append(runner.start)
    gateway.on_stop.append(runner.stop)
    owner_of = OwnerResolver(controls.auth, controls.resolver) if controls is not None else OwnerResolver()
    gateway.extra_routers.append(batches_router(service, owner_of))
    return service
