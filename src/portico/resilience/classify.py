"""What a failure means for the next step: retry, which fallback chain, or give up."""

from __future__ import annotations

from enum import Enum

from portico.errors import (
    ContentPolicyViolation,
    PorticoError,
    RateLimited,
    UpstreamStatus,
    UpstreamTimeout,
    UpstreamUnavailable,
)

_CONTEXT_CODES = frozenset({"context_length_exceeded", "context_window_exceeded", "string_above_max_length"})
_CONTEXT_WORDS = (
    "context length",
    "context window",
    "maximum context",
    "prompt is too long",
    "too many tokens",
)
_POLICY_CODES = frozenset({"content_policy_violation", "content_filter", "content_filtered"})
# Anthropic's "overloaded" (also sent as an SSE error event): transient, like a 503.
_ALSO_RETRYABLE = frozenset({529})


class Failure(Enum):
    CONTEXT_WINDOW = "context window exceeded"
    CONTENT_POLICY = "content policy"
    RATE_LIMITED = "rate limited"
    RETRYABLE = "retryable"
    FATAL = "fatal"


def classify(exc: PorticoError) -> Failure:
    code = exc.code or ""
    status = exc.upstream_status if isinstance(exc, UpstreamStatus) else exc.status
    if code in _CONTEXT_CODES or (status in (400, 413) and any(w in exc.message.lower() for w in _CONTEXT_WORDS)):
        return Failure.CONTEXT_WINDOW
    if isinstance(exc, ContentPolicyViolation) or code in _POLICY_CODES:
        return Failure.CONTENT_POLICY
    if status == 429 and (isinstance(exc, UpstreamStatus | RateLimited)) and exc.retryable:
        return Failure.RATE_LIMITED
    if exc.retryable or status in _ALSO_RETRYABLE:
        return Failure.RETRYABLE
    return Failure.FATAL


def hurts_breaker(exc: PorticoError, kind: Failure) -> bool:
    """Does this failure count against the deployment's health? (429 and client errors do not.)"""
    return kind is Failure.RETRYABLE


def cause(exc: PorticoError) -> str:
    """A short phrase for ``x-portico-route``: 'fallback from X after <cause>'."""
    if isinstance(exc, UpstreamStatus):
        return str(exc.upstream_status)
    if isinstance(exc, UpstreamTimeout):
        return "timeout"
    if exc.code == "circuit_open":
        return "circuit open"
    if exc.code == "deployments_at_capacity":
        return "capacity"
    if isinstance(exc, UpstreamUnavailable):
        return "connection error"
    if exc.code == "upstream_malformed":
        return "malformed response"
    kind = classify(exc)
    if kind is not Failure.RETRYABLE and kind is not Failure.FATAL:
        return str(kind.value)
    return str(exc.code) if exc.code else str(exc.status)


def outcome_label(exc: PorticoError | None) -> str:
    """A low-cardinality label for ``portico_attempts_total{outcome}``."""
    if exc is None:
        return "ok"
    if isinstance(exc, UpstreamStatus):
        s = exc.upstream_status
        return "http_429" if s == 429 else "http_5xx" if s >= 500 else "http_4xx"
    if isinstance(exc, UpstreamTimeout):
        return "timeout"
    if isinstance(exc, UpstreamUnavailable):
        return "connection"
    if exc.code in ("upstream_malformed", "stream_truncated"):
        return "malformed" if exc.code == "upstream_malformed" else "stream_cut"
    return "other"
