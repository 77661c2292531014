"""The Limiter seam: one atomic admission (RPM, TPM, concurrency, budget reservation) and one settle.

Amounts of money are integers of nano-USD (1e-9) so that Lua and Python add them exactly.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

NANO = 1_000_000_000
Period = Literal["day", "month", "total"]
# Loads what a scope ("key:<id>" / "team:<id>") spent since a unix time, from the ledger.
SpendLoader = Callable[[str, float], Awaitable[float]]


def to_nano(usd: float) -> int:
    return int(round(usd * NANO))


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
    ttl_s: int | None  # how long the spend counter must live (None = forever)


def period_window(period: Period, now: float | None = None) -> PeriodWindow:
    t = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    if period == "day":
        start = t.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        return PeriodWindow("d" + start.strftime("%Y-%m-%d"), start.timestamp(), int((end - t).total_seconds()) + 86400)
    if period == "month":
        start = t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        return PeriodWindow("m" + start.strftime("%Y-%m"), start.timestamp(), int((end - t).total_seconds()) + 86400)
    return PeriodWindow("total", 0.0, None)


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
    quota: Quota = field(default_factory=Quota)
    degraded: bool = False  # admitted without checks (fail-open while the backend is down)
    settled: bool = False


class Limiter(Protocol):
    async def admit(
        self, ticket: str, scopes: Sequence[ScopeLimits], *, tokens: int, cost_usd: float
    ) -> Admission:
        """Admit and reserve ``tokens`` and ``cost_usd`` in every scope, or raise RateLimited /
        BudgetExceeded (nothing reserved then)."""

    async def settle(self, admission: Admission, *, tokens: int, cost_usd: float) -> None:
        """Replace the reservation by the real usage; release the concurrency slot."""

    async def close(self) -> None: ...
