"""Rate limits (RPM, TPM, concurrency) and budgets behind one Limiter seam; price catalog.

The Redis backend loads on first use, so reading the configuration stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.limits.limiter import Admission, Limiter, Quota, ScopeLimits, period_window
    from portico.limits.memory import MemoryLimiter
    from portico.limits.prices import ModelPrice, PriceCatalog
    from portico.limits.redis import LimiterUnavailable, RedisLimiter
    from portico.limits.settings import LimitsSettings

_HOMES = {
    "Admission": "limiter",
    "Limiter": "limiter",
    "LimiterUnavailable": "redis",
    "LimitsSettings": "settings",
    "MemoryLimiter": "memory",
    "ModelPrice": "prices",
    "PriceCatalog": "prices",
    "Quota": "limiter",
    "RedisLimiter": "redis",
    "ScopeLimits": "limiter",
    "period_window": "limiter",
}
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
__getattr__ = lazy_exports(__name__, _HOMES)
