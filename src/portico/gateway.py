"""The Gateway: everything one process needs to answer requests, assembled once from Settings.

The HTTP layer (``portico.server``) only parses and renders; the Gateway owns the
deployments, the stage chain, the embedder and the metrics, and their start/stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from portico.config import Settings
from portico.embeddings import MiniLMEmbedder
from portico.embeddings.token_ids import Cl100kDecoder
from portico.observability import Metrics
from portico.pipeline import Pipeline, Reply, RequestContext, Stage
from portico.providers import ReadinessProbe
from portico.resilience import ModelCaller, attach, build_deployments
from portico.types import Usage

if TYPE_CHECKING:
    from portico.files import FileService

log = logging.getLogger("portico")

Hook = Callable[[], Awaitable[None]]


class Gateway:
    def __init__(self, settings: Settings, *, stages: Sequence[Stage] = (), metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.deployments = build_deployments(settings)
        self.caller = ModelCaller(self.deployments, settings.resilience, registry=self.metrics.registry)
        self.stages: list[Stage] = list(stages)
        self.virtual_models: set[str] = set()  # names answered by stages (routes), not deployments
        self.on_start: list[Hook] = []
        self.on_stop: list[Hook] = []
        # Checks a request's key for protected endpoints (/metrics); set by the controls when on.
        self.key_check: Callable[[dict[str, str]], Awaitable[None]] | None = None
        self.extra_routers: list[Any] = []  # FastAPI routers mounted beside the hot path (admin, ...)
        self.token_decoder = Cl100kDecoder()  # token-id embedding inputs
        self.responses: Any = None  # the Responses API service (portico.responses)
        self.moderation: Any = None  # the /v1/moderations handler
        self.files: FileService | None = None  # the files API, when on (the batch runner reads it)
        attach(self)  # /admin/circuits and the shared breaker state (resilience)
        self._pipeline: Pipeline | None = None
        self._embedder: MiniLMEmbedder | None = None
        self._embedder_lock = asyncio.Lock()
        self.started = False

    # ---- assembly -------------------------------------------------------------------------
    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = Pipeline(self.stages, self.caller)
        return self._pipeline

    def price_of(self, model: str, usage: Usage) -> float:
        """USD for ``usage`` on ``model`` at its first deployment's price (0 for unknown names)."""
        group = self.deployments.get(model)
        if not group:
            return 0.0
        return float(group[0].price.cost(usage.prompt_tokens, usage.completion_tokens))

    def knows_model(self, name: str) -> bool:
        return name in self.deployments or name in self.virtual_models

    def model_ids(self) -> list[str]:
        names = [*self.deployments, *sorted(self.virtual_models)]
        if self.settings.embeddings.enabled:
            names.append(self.settings.embeddings.model_name)
            names.extend(a for a in self.settings.embeddings.aliases if a not in names)
        return names

    async def handle(self, ctx: RequestContext) -> Reply:
        return await self.pipeline(ctx)

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
        """Load local models and the embedder; run start hooks (storage, limiters, ...)."""
        if self.settings.server.blas_threads is not None:
            from threadpoolctl import threadpool_limits

            threadpool_limits(self.settings.server.blas_threads, user_api="blas")
        for hook in self.on_start:
            await hook()
        for group in self.deployments.values():
            for d in group:
                if isinstance(d.provider, ReadinessProbe):
                    await d.provider.start()
        if self.settings.embeddings.enabled:
            await self.embedder()
        self.started = True

    async def stop(self) -> None:
        for hook in reversed(self.on_stop):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook failed")
        for group in self.deployments.values():
            for d in group:
                await d.provider.aclose()
