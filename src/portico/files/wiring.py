"""Plug the files API into a Gateway: the service, its start/stop hooks and the /v1/files router."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.files.access import OwnerResolver
from portico.files.blobs import LocalBlobStore
from portico.files.catalog import FileCatalog
from portico.files.routes import files_router
from portico.files.service import FileService

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.gateway import Gateway


def install_files(gateway: Gateway, controls: Controls | None) -> FileService | None:
    """On when ``files.enabled`` (default: when storage is). Metadata shares the controls' database
    engine (migrated by the store's start); without controls the files feature opens and migrates
    its own engine on ``storage.url``."""
    from portico.storage.migrate import migrate
    from portico.storage.sql import SqlStore, create_engine

    settings = gateway.settings
    enabled = settings.files.enabled if settings.files.enabled is not None else bool(settings.storage.enabled)
    if not enabled:
        return None
    store = controls.store if controls is not None else None
    if isinstance(store, SqlStore):
        engine = store.engine
    else:
        engine = create_engine(settings.storage)

        async def start() -> None:
            await migrate(engine, schema=settings.storage.schema_name)

        async def stop() -> None:
            await engine.dispose()

        gateway.on_start.append(start)
        gateway.on_stop.append(stop)
    service = FileService(FileCatalog(engine), LocalBlobStore(settings.files.dir), max_bytes=settings.files.max_bytes)
    owner_of = OwnerResolver(controls.auth, controls.resolver) if controls is not None else OwnerResolver()
    gateway.files = service
    gateway.extra_routers.append(files_router(service, owner_of))
    return service
