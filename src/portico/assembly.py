"""Assembles a Gateway and its stage chain from Settings: the one place features plug in.

Order (outermost first): accounting -> auth -> admission -> input guards -> cache -> compression -> router
-> resilient call. Each feature contributes its stage here when its settings enable it.
"""

from __future__ import annotations

from portico.auth.wiring import install_controls
from portico.batch.wiring import install_batch
from portico.cache.wiring import install_cache
from portico.compress.wiring import install_compression
from portico.config import Settings
from portico.files.wiring import install_files
from portico.gateway import Gateway
from portico.guards.wiring import install_guards
from portico.routing.wiring import install_routing


def assemble(settings: Settings) -> Gateway:
    gateway = Gateway(settings)
    controls = install_controls(gateway)
    if controls is not None:
        gateway.key_check = controls.check_key
    files = install_files(gateway, controls)
    install_batch(gateway, controls, files)
    install_guards(gateway)
    install_cache(gateway)
    install_compression(gateway)
    install_routing(gateway)
    return gateway
