"""The Limiter seam: one atomic admission (RPM, TPM, concurrency, budget reservation) and one settle.

Amounts of money are integers of nano-USD (1e-9) so that Lua and Python add them exactly.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal, Protocol

NANO = 1_000_000_000
Period = Literal["day", "month", "total"]
# Loads what a scope ("key:<id>" / "team:<id>") spent since a unix time, from the ledger.
SpendLoader = Callable[[str, float], Awaitable[float]]


def to_nano(usd: float) -> int:
    return round(usd * NANO)


@dataclass(slots=True, frozen=True)
class ScopeLimits:
    """The limits of one scope; None = unlimited."""

    scope: str  # "key:<id>" or "team:<id>"
    rpm: int | None = None
    tpm: int | None = None
    max_concurrency: int | None = None
    budget_usd: float | None = None
    period: Period = "month"


@dataclass(slots=True, frozen=True)
class PeriodWindow:
    id: str  # part of the counter's name: d2026-11-26, m2026-11, total
    start: float  # unix time the period began (0 for total)
    end: float | None  # unix time it ends (None for total)

    def ttl_s(self, now: float) -> int | None:
        """How long a spend counter must live: to the period's end plus a day of slack."""
        return None if self.end is None else int(self.end - now) + 86400

    def retry_after(self, now: float) -> float | None:
        """Seconds until a new period (and budget) begins."""
        return None if self.end is None else max(1.0, self.end - now)


_TOTAL = PeriodWindow("total", 0.0, None)


@lru_cache(maxsize=64)
def _window(period: Period, day: int) -> PeriodWindow:
    t = datetime.fromtimestamp(day * 86400, UTC)
    if period == "day":
        return PeriodWindow("d" + t.strftime("%Y-%m-%d"), t.timestamp(), (t + timedelta(days=1)).timestamp())
    start = t.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return PeriodWindow("m" + start.strftime("%Y-%m"), start.timestamp(), end.timestamp())


def period_window(period: Period, now: float | None = None) -> PeriodWindow:
    """The budget period holding ``now`` (UTC days and months); cached per day, it is on the hot path."""
    if period == "total":
        return _TOTAL
    return _window(period, int((time.time() if now is None else now) // 86400))


@dataclass(slots=True)
class Quota:
    """What the rate-limit headers report: the tightest scope's limit, remaining and reset."""

    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests_s: float = 0.0
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens_s: float = 0.0


@dataclass(slots=True)
class Admission:
    """A granted admission: settle it exactly once."""

    ticket: str
    scopes: tuple[ScopeLimits, ...]
    tokens: int
    cost_nano: int
    window_second: int  # the window bucket the tokens were reserved in
    at: float = 0.0  # when it was admitted: the budget period it is charged to
    quota: Quota = field(default_factory=Quota)
    degraded: bool = False  # admitted without checks (fail-open while the backend is down)
    settled: bool = False


class Limiter(Protocol):
    async def admit(self, ticket: str, scopes: Sequence[ScopeLimits], *, tokens: int, cost_usd: float) -> Admission:
        """Admit and reserve ``tokens`` and ``cost_usd`` in every scope, or raise RateLimited /
        BudgetExceeded (nothing reserved then)."""

    async def settle(self, admission: Admission, *, tokens: int, cost_usd: float) -> None:
        """Replace the reservation by the real usage; release the concurrency slot."""

    async def close(self) -> None: ...
