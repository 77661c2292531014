"""Mount the admin UI on a Gateway: it needs the controls (keys, store) and a master key."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.gateway import Gateway


def install_ui(gateway: Gateway, controls: Controls | None) -> None:
    """Nothing is mounted without storage or without a master key (there would be nobody to log in)."""
    master = gateway.settings.auth.master_key
    if controls is None or master is None:
        return
    from portico.ui.routes import UiDeps, ui_router

    deps = UiDeps(
        store=controls.store,
        keys=controls.keys,
        master_key=master.get_secret_value(),
        deployments=gateway.caller.all_deployments,
        registry=gateway.metrics.registry,
    )
    gateway.extra_routers.append(ui_router(deps))
