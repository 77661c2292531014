"""Assembles a Gateway from Settings: the one place features are composed, in one visible order.

Each feature is a value (``portico.feature.Feature``: its stages, start/stop hooks and routes,
each route with its access level) built from its own settings; none of them touches the
gateway. The list below is the order of the request chain (outermost first) and of start-up:

    tracing (spans; off by default) -> request log (one JSON line per request; off by default)
    -> batch lane (interactive meter) -> resilience (/admin/circuits) -> controls (accounting
    -> model permission -> admission, /admin API) -> files (/v1/files) -> rag (/v1/vector_stores,
    grounded answers) -> batch (/v1/batches, runner) -> guards -> cache -> compression -> routing
    -> endpoints (/v1/*, health, metrics) -> responses (/v1/responses) -> moderation -> ui (/ui)

To add a feature: write ``my_feature(settings, ...) -> Feature | None`` in its package and
add one line to ``features`` where it belongs in the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from portico.auth.controls import Controls
from portico.auth.wiring import access_check, controls_feature
from portico.batch.wiring import batch_feature, batch_lane
from portico.cache.wiring import cache_feature
from portico.compress.wiring import compression_feature
from portico.config import Settings
from portico.feature import Feature
from portico.files.wiring import files_feature
from portico.gateway import Gateway
from portico.guards.moderation import moderation_feature
from portico.guards.runtime import GuardRuntime
from portico.guards.wiring import guards_feature
from portico.limits.prices import settings_catalog
from portico.observability import Metrics
from portico.observability.wiring import build_tracing, request_log_feature, tracing_feature
from portico.rag.wiring import rag_feature, rag_tools
from portico.resilience.admin import resilience_feature
from portico.responses.wiring import responses_feature, responses_service
from portico.routing.wiring import routing_feature
from portico.server.routes import endpoints_feature
from portico.ui import ui_feature

if TYPE_CHECKING:
    from portico.observability.tracing import Tracing


def assemble(settings: Settings, *, extra: Sequence[Feature] = (), tracing: Tracing | None = None) -> Gateway:
    """The gateway for ``settings``; ``extra`` features (tests, embedders) go innermost, last;
    ``tracing`` replaces the one ``settings.tracing`` describes (tests: an in-memory exporter)."""
    metrics = Metrics()
    prices = settings_catalog(settings)  # one price source: settlement, admission, the ledger
    storage_on = settings.storage.enabled
    controls = Controls.from_settings(settings, registry=metrics.registry, prices=prices) if storage_on else None
    tracing = tracing or build_tracing(settings.tracing)
    access = access_check(settings, controls)
    gateway = Gateway(settings, metrics=metrics, access=access, tracing=tracing, prices=prices)
    files = files_feature(settings, controls)
    # Shared by the guards and /v1/moderations; its MiniLM is the gateway's (attached at start).
    guard_runtime = GuardRuntime(ner=settings.guards.pii_ner)
    gateway.files = files[1] if files is not None else None
    rag = rag_feature(settings, gateway.files, gateway.embedder, metrics.registry)
    gateway.vector_stores = rag[1] if rag is not None else None
    lane = batch_lane(settings.batch, gateway.files)
    features = [
        tracing_feature(tracing),
        request_log_feature(settings),
        lane[0] if lane is not None else None,
        resilience_feature(settings.resilience, gateway.caller),
        controls_feature(controls) if controls is not None else None,
        files[0] if files is not None else None,
        rag[0] if rag is not None else None,
        batch_feature(settings.batch, gateway, controls, files[1], lane[1]) if files and lane else None,
        guards_feature(settings.guards, guard_runtime, gateway.embedder),
        cache_feature(settings.cache, price=gateway.price_of, embedder=gateway.embedder),
        compression_feature(
            settings.compression,
            price=gateway.price_of,
            registry=metrics.registry,
            embedder=gateway.embedder if settings.embeddings.enabled else None,
        ),
        routing_feature(
            settings.routing,
            models=gateway.deployments,
            call_model=gateway.caller.call,
            price=gateway.price_of,
            embedder=gateway.embedder,
        ),
        endpoints_feature(),
        responses_feature(responses_service(settings, controls, rag_tools(rag))),
        moderation_feature(guard_runtime, gateway.embedder),
        ui_feature(gateway, controls),
        *extra,
    ]
    return gateway.add(*features)
