"""The files API as a feature: the service, its start/stop hooks and the /v1/files router."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.feature import Access, Feature, Hook, Mount
from portico.files.blobs import LocalBlobStore
from portico.files.catalog import FileCatalog
from portico.files.routes import files_router
from portico.files.service import FileService

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.config import Settings


def files_feature(settings: Settings, controls: Controls | None) -> tuple[Feature, FileService] | None:
    """On when ``files.enabled`` (default: when storage is). Metadata shares the controls' database
    engine (migrated by the store's start); without controls the files feature opens and migrates
    its own engine on ``storage.url``. Returns the feature and the service (the batch runner uses it)."""
    from portico.storage.migrate import migrate
    from portico.storage.sql import SqlStore, create_engine

    enabled = settings.files.enabled if settings.files.enabled is not None else bool(settings.storage.enabled)
    if not enabled:
        return None
    store = controls.store if controls is not None else None
    on_start: tuple[Hook, ...] = ()
    on_stop: tuple[Hook, ...] = ()
    if isinstance(store, SqlStore):
        engine = store.engine
    else:
        engine = create_engine(settings.storage)

        async def start() -> None:
            await migrate(engine, schema=settings.storage.schema_name)

        async def stop() -> None:
            await engine.dispose()

        on_start, on_stop = (start,), (stop,)
    service = FileService(FileCatalog(engine), LocalBlobStore(settings.files.dir), max_bytes=settings.files.max_bytes)
    feature = Feature("files", mounts=(Mount(files_router(service), Access.KEY),), on_start=on_start, on_stop=on_stop)
    return feature, service
