"""One log line per request with its explanation (``server.request_log``), on ``portico.requests``.

The same fields as the audit row and the ``x-portico-*`` headers: route and reason, cache
status, guard verdicts and entity types, attempts, tokens, cost, latency split into upstream
time and Portico's overhead. Never the prompt or the answer; the key appears as its id only,
and the handler's scrubber removes any configured secret that a field could still carry.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from portico.errors import PorticoError
from portico.pipeline import ChunkStream, Next, Reply, RequestContext

log = logging.getLogger("portico.requests")


def explanation(ctx: RequestContext, error: BaseException | None) -> dict[str, Any]:
    status, code = ctx.status, ctx.error_code
    if isinstance(error, PorticoError):
        status, code = error.status, error.code
    elif error is not None and status < 400:
        status, code = (499, "client_disconnected") if ctx.client_disconnected else (500, "internal")
    latency = time.perf_counter() - ctx.started
    fields: dict[str, Any] = {
        "request_id": ctx.request_id,
        "key_id": ctx.caller.key_id,
        "team_id": ctx.caller.team_id,
        "model_requested": ctx.model_requested,
        "model": ctx.model,
        "deployment": ctx.deployment or None,
        "route_reason": ctx.route_reason,
        "cache": ctx.cache_status,
        "guards": [
            {"guard": f.guard, "action": f.action, "types": sorted((f.detail or {}).get("types") or [])}
            for f in ctx.findings
        ],
        "attempts": ctx.attempts,
        "stream": ctx.request.stream,
        "status": status,
        "error_code": code,
        "prompt_tokens": ctx.usage.prompt_tokens if ctx.usage else None,
        "completion_tokens": ctx.usage.completion_tokens if ctx.usage else None,
        "cost_usd": round(ctx.cost_usd, 8),
        "latency_ms": round(latency * 1000, 3),
        "upstream_ms": round(ctx.upstream_seconds * 1000, 3),
        "overhead_ms": round(ctx.overhead_seconds() * 1000, 3),
    }
    return fields


class RequestLogStage:
    """Outermost stage: logs each request once it is answered (a stream: once it ends)."""

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        try:
            reply = await call_next(ctx)
        except BaseException as exc:
            self._log(ctx, exc)
            raise
        if isinstance(reply, ChunkStream):

            async def at_end(c: RequestContext, error: BaseException | None) -> None:
                self._log(c, error)

            reply.on_close(at_end)
        else:
            self._log(ctx, None)
        return reply

    @staticmethod
    def _log(ctx: RequestContext, error: BaseException | None) -> None:
        fields = explanation(ctx, error)
        log.info(
            "%s %s -> %s %s (%s, %.1f ms)",
            ctx.request_id,
            fields["model_requested"],
            fields["model"],
            fields["status"],
            fields["route_reason"],
            fields["latency_ms"],
            extra={"portico": fields},
        )
