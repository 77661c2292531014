"""The explanatory headers on every answer."""

from __future__ import annotations

from portico.pipeline import RequestContext


def portico_headers(ctx: RequestContext, *, streaming: bool = False) -> dict[str, str]:
    headers = {
        "x-request-id": ctx.request_id,
        "x-portico-route": f"{ctx.model}; reason={ctx.route_reason}",
        "x-portico-cache": ctx.cache_status,
        "x-portico-attempts": str(ctx.attempts),
        "x-portico-overhead-ms": f"{ctx.overhead_seconds() * 1000:.3f}",
        # A stream's cost is known only at its end: it is in the final usage chunk (portico.cost_usd).
        "x-portico-cost-usd": "pending" if streaming else f"{ctx.cost_usd:.8f}",
    }
    headers.update(ctx.response_headers)
    return headers
