"""The W3C ``traceparent`` of the upstream call in progress, for the HTTP providers to send.

Set by the tracing wrapper around a provider (``tracing.py``) for the duration of one call;
read by ``providers.http.HttpClient``. With tracing off nothing sets it, and reading it is
one context-variable lookup.
"""

from __future__ import annotations

from contextvars import ContextVar

TRACEPARENT: ContextVar[str | None] = ContextVar("portico_traceparent", default=None)


def upstream_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus the current ``traceparent``, if a traced call is in progress."""
    value = TRACEPARENT.get()
    return headers if value is None else {**headers, "traceparent": value}
