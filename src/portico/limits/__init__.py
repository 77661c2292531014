"""Rate limits (RPM, TPM, concurrency) and budgets behind one Limiter seam; price catalog.

The Redis backend loads on first use, so reading the configuration stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portico.limits.limiter import Admission, Limiter, Quota, ScopeLimits, period_window
from portico.limits.memory import MemoryLimiter
from portico.limits.prices import ModelPrice, PriceCatalog
from portico.limits.settings import LimitsSettings

if TYPE_CHECKING:
    from portico.limits.redis import LimiterUnavailable, RedisLimiter

__all__ = [
    "Admission",
    "Limiter",
    "LimiterUnavailable",
    "LimitsSettings",
    "MemoryLimiter",
    "ModelPrice",
    "PriceCatalog",
    "Quota",
    "RedisLimiter",
    "ScopeLimits",
    "period_window",
]


def __getattr__(name: str) -> Any:
    if name in ("RedisLimiter", "LimiterUnavailable"):
        from portico.limits import redis

        return getattr(redis, name)
    raise AttributeError(name)
