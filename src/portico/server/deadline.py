"""A request's overall deadline: the config default, lowered by the key and by the client.

``server.request_timeout`` (seconds) is the default; a key's ``metadata.request_timeout`` and
the request header ``x-portico-timeout: SECONDS`` can only lower it, and a model's
``resilience ... retry.deadline`` lowers it for that model's calls. The model caller bounds
every attempt, retry, hedge and fallback by it together; for a stream it bounds the wait for
the first token (after that the stream's inter-token timeout applies).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from portico.errors import InvalidRequest, UpstreamTimeout
from portico.feature import Grant
from portico.pipeline import RequestContext

HEADER = "x-portico-timeout"


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def set_deadline(ctx: RequestContext, default: float, headers: Mapping[str, str], grant: Grant) -> None:
    limit, source = default, "server.request_timeout"
    if grant.principal is not None:
        own = _seconds(grant.principal.key.metadata.get("request_timeout"))
        if own is not None and own < limit:
            limit, source = own, "the key's request_timeout"
    asked = headers.get(HEADER)
    if asked is not None:
        seconds = _seconds(asked)
        if seconds is None:
            raise InvalidRequest(f"{HEADER} must be a positive number of seconds, not '{asked[:40]}'.", param=HEADER)
        if seconds < limit:
            limit, source = seconds, HEADER
    ctx.deadline = time.monotonic() + limit
    ctx.deadline_source = source
    ctx.deadline_seconds = limit


def describe(ctx: RequestContext) -> str:
    return f"{ctx.deadline_seconds:g} s from {ctx.deadline_source}"


def explain_timeout(ctx: RequestContext | None, error: UpstreamTimeout) -> None:
    """Say in a 504 that the request's deadline, not only one attempt's timeout, ran out."""
    if ctx is not None and ctx.deadline is not None and time.monotonic() >= ctx.deadline - 0.05:
        error.message = f"{error.message} The request's deadline ({describe(ctx)}) is over."
