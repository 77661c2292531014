"""The admin UI as a feature: one FastAPI router under /ui, built from the controls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.feature import Access, Feature, Mount

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.gateway import Gateway


def ui_feature(gateway: Gateway, controls: Controls | None) -> Feature | None:
    """None without storage or without a master key (there would be nobody to log in).
    Build it after the files feature: the health page summarises batches and vector stores when on.

    Declared ``public`` at the door on purpose: the door's ``admin`` level wants the master key
    in a header, which a browser does not send. The UI admits a browser by its own session
    cookie, issued only to whoever typed the master key (``portico.ui.session``): every page
    but the login page and the static files redirects a visitor without one to the login page.
    """
    master = gateway.settings.auth.master_key
    if controls is None or master is None:
        return None
    from portico.ui.routes import UiDeps, ui_router

    batches = None
    if gateway.files is not None and gateway.settings.batch.enabled is not False:
        from portico.batch.store import BatchStore

        batches = BatchStore(gateway.files.catalog.engine).summary
    deps = UiDeps(
        store=controls.store,
        keys=controls.keys,
        master_key=master.get_secret_value(),
        deployments=gateway.caller.all_deployments,
        registry=gateway.metrics.registry,
        batches=batches,
        vector_stores=gateway.vector_stores.catalog.summary if gateway.vector_stores is not None else None,
    )
    return Feature("ui", mounts=(Mount(ui_router(deps), Access.PUBLIC),))
