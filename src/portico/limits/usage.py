"""Real usage and cost of a finished (or cut) request, as admission and accounting settle it."""

from __future__ import annotations

from portico.limits import estimate
from portico.limits.prices import BATCH_TIER, PriceCatalog
from portico.pipeline import RequestContext
from portico.pipeline.context import is_cache_hit
from portico.types import Usage

STREAM_CHARS = "portico.limits.stream_chars"  # ctx.state: completion chars seen on a stream


def final_usage(ctx: RequestContext) -> Usage:
    """ctx.usage when the provider reported it; else an estimate from what was streamed."""
    if ctx.usage is not None:
        return ctx.usage
    chars = ctx.state.get(STREAM_CHARS)
    if chars is None:
        return Usage()
    prompt = estimate.prompt_tokens(ctx.request, 4.0)  # an estimate of what was, not a bound
    usage = Usage.of(prompt, estimate.completion_tokens(int(chars)))
    ctx.usage = usage
    return usage


def fill_cost(ctx: RequestContext, catalog: PriceCatalog) -> float:
    """Set ctx.cost_usd from usage and the served model's price unless a stage already did.

    Cache hits cost nothing."""
    if ctx.cost_usd > 0 or is_cache_hit(ctx.cache_status):
        return ctx.cost_usd
    usage = final_usage(ctx)
    if usage.prompt_tokens or usage.completion_tokens:
        batch = bool(ctx.state.get(BATCH_TIER))
        ctx.cost_usd = catalog.cost(ctx.model, usage.prompt_tokens, usage.completion_tokens, batch=batch)
    return ctx.cost_usd


def count_stream_chars(ctx: RequestContext, text: str) -> None:
    ctx.state[STREAM_CHARS] = ctx.state.get(STREAM_CHARS, 0) + len(text)
