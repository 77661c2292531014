"""Assembles a Gateway and its stage chain from Settings: the one place features plug in.

Order (outermost first): accounting -> auth -> admission -> input guards -> cache -> router
-> resilient call. Each feature contributes its stage here when its settings enable it.
"""

from __future__ import annotations

from portico.auth.wiring import install_controls
from portico.cache.wiring import install_cache
from portico.config import Settings
from portico.files.wiring import install_files
from portico.gateway import Gateway
from portico.guards.moderation import ModerationEndpoint
from portico.guards.runtime import GuardRuntime
from portico.guards.wiring import install_guards
from portico.routing.wiring import install_routing


def assemble(settings: Settings) -> Gateway:
    gateway = Gateway(settings)
    controls = install_controls(gateway)
    if controls is not None:
        gateway.key_check = controls.check_key
    install_files(gateway, controls)
    guard_runtime = GuardRuntime(ner=settings.guards.pii_ner)  # shared by the guards and /v1/moderations
    install_guards(gateway, runtime=guard_runtime)
    install_cache(gateway)
    install_routing(gateway)
    from portico.responses.routes import responses_router
    from portico.responses.wiring import build_responses

    gateway.responses = build_responses(settings, controls)
    gateway.on_start.append(gateway.responses.start)
    gateway.on_stop.append(gateway.responses.stop)
    gateway.extra_routers.append(responses_router(gateway.responses))
    gateway.moderation = ModerationEndpoint(guard_runtime)
    return gateway
