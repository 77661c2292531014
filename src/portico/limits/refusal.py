"""Turn a refused admission into the error a client sees, with OpenAI-style rate-limit headers."""

from __future__ import annotations

from portico.errors import BudgetExceeded, RateLimited
from portico.limits.limiter import Quota


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``20ms``, ``6s``, ``1m30s``."""
    if seconds < 1:
        return f"{max(0, int(seconds * 1000))}ms"
    whole = int(seconds + 0.999)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def quota_headers(q: Quota) -> dict[str, str]:
    headers: dict[str, str] = {}
    if q.limit_requests is not None:
        headers["x-ratelimit-limit-requests"] = str(q.limit_requests)
        headers["x-ratelimit-remaining-requests"] = str(max(0, q.remaining_requests or 0))
        headers["x-ratelimit-reset-requests"] = duration(q.reset_requests_s)
    if q.limit_tokens is not None:
        headers["x-ratelimit-limit-tokens"] = str(q.limit_tokens)
        headers["x-ratelimit-remaining-tokens"] = str(max(0, q.remaining_tokens or 0))
        headers["x-ratelimit-reset-tokens"] = duration(q.reset_tokens_s)
    return headers


def refuse(reason: str, scope: str, retry_after: float | None, quota: Quota) -> RateLimited:
    """The error for ``reason`` in {rpm, tpm, concurrency, too_large, budget}."""
    headers = quota_headers(quota)
    kind, _, _ = scope.partition(":")
    if reason == "budget":
        return BudgetExceeded(
            f"The {kind}'s budget is exhausted for this period "
            "(or this request's maximum possible cost would exceed it).",
            retry_after=retry_after,
            headers=headers,
        )
    if reason == "too_large":
        return RateLimited(
            f"This request's tokens (prompt estimate + max_tokens) exceed the {kind}'s whole "
            "tokens-per-minute limit; lower max_tokens.",
            code="request_too_large",
            retryable=False,
            headers=headers,
        )
    what = {"rpm": "requests per minute", "tpm": "tokens per minute", "concurrency": "concurrent requests"}[reason]
    return RateLimited(f"Rate limit reached for the {kind}: {what}.", retry_after=retry_after, headers=headers)
