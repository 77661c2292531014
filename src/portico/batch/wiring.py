"""The Batch API as features: the interactive meter at the front of the chain (``batch_lane``)
and the runner's start/stop hooks with the /v1/batches router (``batch_feature``, after files).

On when the files API is (input files are read from it, output files written to it), unless
``batch.enabled`` is false.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.auth.principal import Principal
from portico.batch.execute import Identity, LineExecutor
from portico.batch.lane import InteractiveMeter, Lane
from portico.batch.routes import batches_router
from portico.batch.runner import BatchRunner
from portico.batch.service import BatchService
from portico.batch.settings import BatchSettings
from portico.batch.store import BatchStore
from portico.errors import AuthenticationFailed
from portico.feature import Access, Feature, Mount
from portico.files.access import MASTER
from portico.files.records import ANONYMOUS

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.files.service import FileService
    from portico.gateway import Gateway


def batch_lane(settings: BatchSettings, files: FileService | None) -> tuple[Feature, Lane] | None:
    """The meter that lets batch lines yield to interactive requests: outermost in the chain."""
    if files is None or settings.enabled is False:
        return None
    lane = Lane(busy_concurrency=settings.busy_concurrency, quiet_s=settings.quiet_ms / 1000)
    return Feature("batch-lane", stages=(InteractiveMeter(lane),)), lane


def batch_feature(
    settings: BatchSettings, gateway: Gateway, controls: Controls | None, files: FileService, lane: Lane
) -> Feature:
    """Lines run through ``gateway.handle`` (the whole chain) once the gateway has started."""
    store = BatchStore(files.catalog.engine)

    async def identity_of(owner: str) -> Identity:
        if owner in (ANONYMOUS, MASTER) or controls is None:
            return owner
        key = await controls.store.get_key(owner)
        if key is None or not key.active():
            return AuthenticationFailed("The API key that created this batch is no longer active.")
        team = await controls.store.get_team(key.team_id) if key.team_id else None
        return Principal.of(key, team)

    executor = LineExecutor(gateway)
    runner = BatchRunner(
        store,
        files,
        executor,
        settings,
        identity_of=identity_of,
        lane=lane,
        ready=lambda: gateway.started,
    )
    service = BatchService(store, files, runner, settings, endpoints=executor.endpoints())
    return Feature(
        "batch",
        mounts=(Mount(batches_router(service), Access.KEY),),
        on_start=(runner.start,),
        on_stop=(runner.stop,),
    )
