"""The controls as a feature (accounting -> model permission -> admission, the admin API), and
the one access check the door uses, built from the settings and the controls' key store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.auth.access import AccessCheck
from portico.auth.controls import Controls
from portico.feature import Access, Feature, Mount

if TYPE_CHECKING:
    from portico.config import Settings


def controls_feature(controls: Controls) -> Feature:
    """Accounting is outermost so that every request reaching the chain is recorded (the door
    records the ones it refuses); the store and journal start before serving and flush on stop."""
    from portico.server.admin import admin_router

    return Feature(
        "controls",
        metering=(controls.accounting, controls.permission, controls.admission),
        mounts=(Mount(admin_router(controls.store, controls.keys), Access.ADMIN),),
        on_start=(controls.start,),
        on_stop=(controls.stop,),
    )


def access_check(settings: Settings, controls: Controls | None) -> AccessCheck:
    """With storage off there is no key store: the master key (if any) is the only key."""
    metrics = Access(settings.metrics.level())
    if controls is None:
        return AccessCheck(settings.auth.master_key, metrics=metrics)
    return AccessCheck(settings.auth.master_key, controls.resolver, metrics=metrics, on_refused=controls.record_refusal)
