"""RoutingStage: resolves a virtual model name (a route) to a real model.

Single-model policies (rules, intent, complexity) set ``ctx.model`` and pass the request on.
Cascade and ensemble call models themselves through the injected ``ModelCaller`` and answer
with the final response; every call's usage and cost lands in ``ctx.state['routing']``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from portico.errors import ConfigError, UpstreamUnavailable
from portico.pipeline import Next, Reply, RequestContext
from portico.routing.calls import as_stream
from portico.routing.cascade import CascadePolicy
from portico.routing.complexity import ComplexityRouter
from portico.routing.complexity_model import ComplexityModel
from portico.routing.ensemble import EnsemblePolicy
from portico.routing.intent import Embedder, IntentRouter
from portico.routing.route import CostFn, ModelCaller, Router, no_cost
from portico.routing.rules import RulesRouter
from portico.routing.settings import (
    CascadeRoute,
    ComplexityRoute,
    EnsembleRoute,
    IntentRoute,
    RoutingSettings,
    RulesRoute,
)
from portico.types import ChatResponse, Usage

ROUTE_HEADER = "x-portico-route"
GENERAL_PRIOR = "general"  # `artifact: general`: the prior for traffic unlike MMLU/GSM8K (routing/prior.py)


class MultiCallPolicy(Protocol):
    async def run(self, ctx: RequestContext) -> ChatResponse: ...


class RoutingStage:
    """Place after cache lookup and before the resilient model call."""

    def __init__(
        self,
        settings: RoutingSettings,
        *,
        embedder: Embedder | None = None,
        call_model: ModelCaller | None = None,
        cost_of: CostFn = no_cost,
        complexity_model: ComplexityModel | None = None,
    ) -> None:
        self.settings = settings
        self.routers: dict[str, Router] = {}
        self.multi: dict[str, MultiCallPolicy] = {}
        self._pending: list[IntentRoute | RulesRoute] = []
        models: dict[str | None, ComplexityModel] = {}
        if complexity_model is not None:
            models[None] = complexity_model
        for cfg in settings.routes:
            if isinstance(cfg, IntentRoute | RulesRoute) and needs_embedder(cfg) and embedder is None:
                self._pending.append(cfg)  # built by attach_embedder() once the embedder is loaded
            elif isinstance(cfg, RulesRoute):
                self.routers[cfg.name] = RulesRouter(cfg, embedder)
            elif isinstance(cfg, IntentRoute):
                self.routers[cfg.name] = IntentRouter(cfg, _need(embedder, cfg.name))
            elif isinstance(cfg, ComplexityRoute):
                if cfg.artifact not in models:
                    models[cfg.artifact] = load_model(cfg.artifact)
                ratio = _cost_ratio(cost_of, cfg.fast, cfg.strong)
                self.routers[cfg.name] = ComplexityRouter(cfg, models[cfg.artifact], fast_cost_ratio=ratio)
            elif isinstance(cfg, CascadeRoute):
                self.multi[cfg.name] = CascadePolicy(cfg, _need_caller(call_model, cfg.name), cost_of)
            elif isinstance(cfg, EnsembleRoute):
                self.multi[cfg.name] = EnsemblePolicy(cfg, _need_caller(call_model, cfg.name), cost_of)

    def handles(self, model: str) -> bool:
        return model in self.routers or model in self.multi or any(c.name == model for c in self._pending)

    @property
    def waiting_for_embedder(self) -> bool:
        return bool(self._pending)

    def attach_embedder(self, embedder: Embedder) -> None:
        """Build the routes that embed (intent, rules with intents): embeds their examples."""
        for cfg in self._pending:
            if isinstance(cfg, IntentRoute):
                self.routers[cfg.name] = IntentRouter(cfg, embedder)
            else:
                self.routers[cfg.name] = RulesRouter(cfg, embedder)
        self._pending = []

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        name = ctx.request.model
        router = self.routers.get(name)
        if router is not None:
            started = time.perf_counter()
            route = router.decide(ctx)
            ctx.model = route.model
            ctx.route_reason = route.reason
            ctx.state["routing"] = {
                "route": name,
                "model": route.model,
                "score": route.score,
                "reason": route.reason,
                "decision_ms": (time.perf_counter() - started) * 1000,
            }
            self._header(ctx)
            return await call_next(ctx)
        policy = self.multi.get(name)
        if policy is None:
            if any(c.name == name for c in self._pending):
                raise UpstreamUnavailable(f"route '{name}' is not ready: the embedder is still loading")
            return await call_next(ctx)
        response = await policy.run(ctx)
        self._header(ctx)
        if ctx.request.stream:
            return as_stream(response, ctx.request.include_usage)
        return response

    def _header(self, ctx: RequestContext) -> None:
        if self.settings.header:
            value = f"{ctx.model}; {ctx.route_reason}"
            # header values must be latin-1; intent and model names come from user config
            ctx.response_headers[ROUTE_HEADER] = value.encode("latin-1", "replace").decode("latin-1")


def needs_embedder(cfg: object) -> bool:
    return isinstance(cfg, IntentRoute) or (isinstance(cfg, RulesRoute) and bool(cfg.intents))


def load_model(path: str | None) -> ComplexityModel:
    """``artifact``: a file, ``general`` (the packaged general prior), or None (the MMLU model)."""
    if path == GENERAL_PRIOR:
        from portico.routing.prior import load_general_prior

        return load_general_prior()
    return ComplexityModel.load(Path(path) if path else None)


def _cost_ratio(cost_of: CostFn, fast: str, strong: str) -> float:
    """Fast / strong cost of a typical call (500 prompt + 250 completion tokens)."""
    typical = Usage.of(500, 250)
    strong_cost = cost_of(strong, typical)
    return cost_of(fast, typical) / strong_cost if strong_cost > 0 else 0.0


def _need(embedder: Embedder | None, route: str) -> Embedder:
    if embedder is None:
        raise ConfigError(f"route '{route}' needs the local embedder (embeddings.enabled: true)")
    return embedder


def _need_caller(call_model: ModelCaller | None, route: str) -> ModelCaller:
    if call_model is None:
        raise ConfigError(f"route '{route}' calls models itself and needs a ModelCaller")
    return call_model
