"""Plug the controls into a Gateway: stages in order, start/stop hooks, the admin router."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.auth.controls import Controls

if TYPE_CHECKING:
    from portico.gateway import Gateway


def install_controls(gateway: Gateway) -> Controls | None:
    """Accounting (outermost) -> Auth -> Admission go first in the chain, before guards, cache
    and routing; the store/journal start before serving and flush on stop. Nothing is installed
    when ``storage.enabled`` is false."""
    from portico.server.admin import admin_router

    if not gateway.settings.storage.enabled:
        return None
    controls = Controls.from_settings(gateway.settings, registry=gateway.metrics.registry)
    gateway.stages[:0] = [controls.accounting, controls.auth, controls.admission]
    gateway.on_start.append(controls.start)
    gateway.on_stop.append(controls.stop)
    gateway.extra_routers.append(admin_router(controls.store, controls.keys, gateway.settings.auth.master_key))
    return controls
