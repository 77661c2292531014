"""CompressionStage: shrink long inputs before the model sees them; never fail a request for it.

Placed after the cache (identical requests still hit on the original text) and before the
router (so routes and cascades receive the compressed request). Any error while
compressing leaves the request as it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from portico.compress.compressor import Compressor, Embed
from portico.compress.messages import Report, Target, compress_messages
from portico.compress.settings import CompressionSettings
from portico.pipeline import Next, Reply, RequestContext
from portico.types import Usage

log = logging.getLogger("portico.compress")
HEADER = "x-portico-compression"
STATE_KEY = "compression"  # ctx.state: {"original_tokens", "kept_tokens", "saved_tokens", "saved_usd", ...}

PriceOf = Callable[[str, Usage], float]


class CompressionMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "portico_compression_requests",
            "Requests seen by the compression stage, by outcome (compressed, unchanged, failed).",
            ["outcome"],
            registry=registry,
        )
        self.saved_tokens = Counter(
            "portico_compression_saved_tokens", "Prompt tokens removed by compression.", ["model"], registry=registry
        )
        self.saved_usd = Counter(
            "portico_compression_saved_usd",
            "Input cost avoided by compression, at the serving model's price.",
            ["model"],
            registry=registry,
        )


class CompressionStage:
    def __init__(
        self, settings: CompressionSettings, *, price_of: PriceOf, registry: CollectorRegistry | None = None
    ) -> None:
        self.settings = settings
        self.price_of = price_of
        self.compressor = Compressor()
        self.metrics = CompressionMetrics(registry or CollectorRegistry())

    def attach_embedder(self, embed: Embed) -> None:
        """Let the compressor consult MiniLM (at start, once the shared embedder is loaded)."""
        self.compressor = Compressor(embed, self.compressor.tuning)

    def target(self, ctx: RequestContext) -> Target | None:
        """The compression this request asks for, or None (off for its model and key)."""
        s = self.settings
        own: Any = ctx.caller.metadata.get("compression") if ctx.caller.metadata else None
        if own is False:
            return None
        on = (
            s.enabled
            or own is not None
            or ctx.model_requested in s.models
            or ctx.model in s.models
            or (ctx.caller.key_id is not None and ctx.caller.key_id in s.keys)
        )
        if not on:
            return None
        ratio = s.ratio
        if isinstance(own, dict) and isinstance(own.get("ratio"), int | float) and 0 < own["ratio"] <= 1:
            ratio = float(own["ratio"])
        return Target(ratio, s.budget_tokens, s.min_tokens, frozenset(s.roles))

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        target = self.target(ctx)
        if target is None:
            return await call_next(ctx)
        report = await self._compress(ctx, target)
        try:
            return await call_next(ctx)
        finally:
            if report is not None:
                self._account(ctx, report)

    async def _compress(self, ctx: RequestContext, target: Target) -> Report | None:
        try:
            done = await asyncio.to_thread(compress_messages, ctx.request.messages, self.compressor, target)
        except Exception:  # the contract: any failure falls back to the original request
            log.warning("compression failed for request %s; sending the original", ctx.request_id, exc_info=True)
            self.metrics.requests.labels("failed").inc()
            return None
        if done is None:
            self.metrics.requests.labels("unchanged").inc()
            return None
        messages, report = done
        ctx.request = ctx.request.model_copy(update={"messages": messages})
        ctx.response_headers[HEADER] = report.header()
        self.metrics.requests.labels("compressed").inc()
        return report

    def _account(self, ctx: RequestContext, report: Report) -> None:
        saved_usd = self.price_of(ctx.model, Usage.of(report.saved_tokens, 0))
        ctx.state[STATE_KEY] = {
            "original_tokens": report.original_tokens,
            "kept_tokens": report.kept_tokens,
            "saved_tokens": report.saved_tokens,
            "ratio": round(report.ratio, 4),
            "saved_usd": saved_usd,
        }
        self.metrics.saved_tokens.labels(ctx.model).inc(report.saved_tokens)
        if saved_usd:
            self.metrics.saved_usd.labels(ctx.model).inc(saved_usd)
