"""The Gateway: everything one process needs to answer requests, assembled once from Settings.

The HTTP layer (``portico.server``) only parses and renders; the Gateway owns the
deployments, the stage chain, the embedder and the metrics, and their start/stop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from portico.auth.access import AccessCheck
from portico.config import Settings
from portico.embeddings import MiniLMEmbedder
from portico.embeddings.token_ids import Cl100kDecoder
from portico.errors import ConfigError
from portico.feature import Access, Feature, GatewayFrozen, Mount, Route
from portico.limits.prices import PriceCatalog, settings_catalog
from portico.observability import Metrics
from portico.pipeline import Next, Pipeline, Reply, RequestContext, Stage
from portico.providers import ReadinessProbe
from portico.resilience import ModelCaller, build_deployments
from portico.types import Usage

if TYPE_CHECKING:
    from portico.files import FileService
    from portico.observability.tracing import Tracing
    from portico.rag.service import VectorStoreService

log = logging.getLogger("portico")


class Gateway:
    """The core services (deployments, caller, metrics, embedder, the access check) plus the
    features composed on it by ``portico.assembly`` (see ``portico.feature`` for the rules).

    ``add`` features in order, then ``freeze`` (done by ``start`` and by the ASGI app): the
    stage chain and the route table are built once, and a later ``add`` raises GatewayFrozen.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        access: AccessCheck | None = None,
        tracing: Tracing | None = None,
        prices: PriceCatalog | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.access = access or AccessCheck(settings.auth.master_key, metrics=Access(settings.metrics.level()))
        self.prices = prices or settings_catalog(settings)  # the one price source (portico.limits.prices)
        self.deployments = build_deployments(settings, self.prices)
        self.caller = ModelCaller(self.deployments, settings.resilience, registry=self.metrics.registry)
        self.tracing = tracing  # None (the default): no tracing code on the request path
        if tracing is not None:
            tracing.wrap_providers(self.caller.all_deployments())
        self._features: list[Feature] = []
        self.files: FileService | None = None  # the files API, when on (set by assembly; the batch runner reads it)
        self.vector_stores: VectorStoreService | None = None  # vector stores, when on (set by assembly)
        self.token_decoder = Cl100kDecoder()  # token-id embedding inputs, token counts
        self._pipeline: Pipeline | None = None
        self._metering: tuple[Stage, ...] = ()
        self._virtual: frozenset[str] = frozenset()
        self._embedder: MiniLMEmbedder | None = None
        self._embedder_lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()
        self.started = False

    # ---- composition ----------------------------------------------------------------------
    def add(self, *features: Feature | None) -> Gateway:
        """Append features (None = a feature its settings switched off) in chain order."""
        if self._pipeline is not None:
            names = ", ".join(f.name for f in features if f is not None)
            raise GatewayFrozen(f"the gateway is frozen (started); cannot add feature(s) {names}")
        self._features.extend(f for f in features if f is not None)
        self._virtual = self.virtual_models
        return self

    def freeze(self) -> None:
        """Build the stage chain once; from now on the composition is fixed (idempotent)."""
        if self._pipeline is not None:
            return
        seen: dict[tuple[str, str], str] = {}
        for f in self._features:
            for r in f.routes:
                other = seen.setdefault((r.method, r.path), f.name)
                if other != f.name or sum(1 for x in f.routes if (x.method, x.path) == (r.method, r.path)) > 1:
                    raise ConfigError(f"route {r.method} {r.path} is registered twice ({other}, {f.name})")
        self._metering = tuple(s for f in self._features for s in f.metering)
        stages: tuple[Stage, ...] = (*self._metering, *self.stages)
        if self.tracing is not None:
            stages = tuple(self.tracing.wrap_stages(stages, self.caller.all_deployments()))
        self._pipeline = Pipeline(stages, self.caller)

    @property
    def frozen(self) -> bool:
        return self._pipeline is not None

    @property
    def features(self) -> tuple[Feature, ...]:
        return tuple(self._features)

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The chat stages (after the metering stages), in feature order."""
        return tuple(s for f in self._features for s in f.stages)

    @property
    def routes(self) -> tuple[Route, ...]:
        """The hot-path routes of every feature, in feature order."""
        return tuple(r for f in self._features for r in f.routes)

    @property
    def mounts(self) -> tuple[Mount, ...]:
        """The FastAPI routers of every feature, each with its access level."""
        return tuple(m for f in self._features for m in f.mounts)

    @property
    def virtual_models(self) -> frozenset[str]:
        """Names answered by stages (routes), not deployments."""
        return frozenset(n for f in self._features for n in f.virtual_models)

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise GatewayFrozen("the gateway is not frozen yet: call freeze() or start() before serving")
        return self._pipeline

    def price_of(self, model: str, usage: Usage) -> float:
        """USD for ``usage`` on ``model`` at its first deployment's price (0 for unknown names)."""
        group = self.deployments.get(model)
        if not group:
            return 0.0
        return float(group[0].price.cost(usage.prompt_tokens, usage.completion_tokens))

    def knows_model(self, name: str) -> bool:
        if name in self.deployments or name in self._virtual:
            return True
        return any(name.startswith(p) and len(name) > len(p) for f in self._features for p in f.model_prefixes)

    def model_ids(self) -> list[str]:
        names = [*self.deployments, *sorted(self._virtual)]
        if self.settings.embeddings.enabled:
            names.append(self.settings.embeddings.model_name)
            names.extend(a for a in self.settings.embeddings.aliases if a not in names)
        return names

    async def handle(self, ctx: RequestContext) -> Reply:
        """Run a chat request through the whole chain (metering, then the chat stages, then the call)."""
        if self._pipeline is None:  # a gateway used directly (no app, no start): freeze it now
            self.freeze()
        return await self.pipeline(ctx)

    async def meter(self, ctx: RequestContext, work: Next) -> Reply:
        """Run non-chat work (embeddings) inside the metering stages only: key permission for
        ``ctx.model_requested``, limits and budget, the ledger and audit rows, like a chat request."""
        if self._pipeline is None:
            self.freeze()
        return await Pipeline(self._metering, work)(ctx)

    # ---- embeddings -----------------------------------------------------------------------
    async def embedder(self) -> MiniLMEmbedder:
        if self._embedder is None:
            async with self._embedder_lock:
                if self._embedder is None:
                    threads = self.settings.embeddings.threads
                    self._embedder = await asyncio.to_thread(lambda: MiniLMEmbedder(threads=threads))
        return self._embedder

    # ---- lifecycle ------------------------------------------------------------------------
    def readiness(self) -> dict[str, bool]:
        state: dict[str, bool] = {}
        for group in self.deployments.values():
            for d in group:
                if isinstance(d.provider, ReadinessProbe):
                    state[d.id] = d.provider.ready
        if self.settings.embeddings.enabled:
            state[self.settings.embeddings.model_name] = self._embedder is not None
        return state

    async def start(self) -> None:
        """Freeze; load local models and the embedder; run the features' start hooks in order.
        Idempotent (the ASGI app starts the gateway itself when no lifespan did)."""
        self.freeze()
        async with self._start_lock:
            if not self.started:
                await self._start()

    async def _start(self) -> None:
        if self.settings.server.blas_threads is not None:
            from threadpoolctl import threadpool_limits

            threadpool_limits(self.settings.server.blas_threads, user_api="blas")
        for feature in self._features:
            for hook in feature.on_start:
                await hook()
        for group in self.deployments.values():
            for d in group:
                if isinstance(d.provider, ReadinessProbe):
                    await d.provider.start()
        if self.settings.embeddings.enabled:
            await self.embedder()
        self.started = True

    async def stop(self) -> None:
        for feature in reversed(self._features):
            for hook in reversed(feature.on_stop):
                try:
                    await hook()
                except Exception:
                    log.exception("shutdown hook of %s failed", feature.name)
        for group in self.deployments.values():
            for d in group:
                await d.provider.aclose()
