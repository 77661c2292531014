"""A per-deployment circuit breaker: closed / open / half-open, on a failure rate over a sliding window.

The window is a ring of time buckets, so recording an outcome is O(1) and the rate is a
sum over a handful of integers. The clock is injected (tests step it instead of sleeping).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum

from portico.resilience.settings import BreakerSettings

Clock = Callable[[], float]
_BUCKETS = 10


class CircuitState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


Listener = Callable[["CircuitBreaker", CircuitState], None]


class CircuitBreaker:
    """``allow()`` before a call; then exactly one of ``success()``, ``failure()`` or ``release()``."""

    __slots__ = (
        "_bucket_len",
        "_clock",
        "_fails",
        "_probe_ok",
        "_probes",
        "_slot",
        "_total",
        "listener",
        "name",
        "opened_until",
        "settings",
        "state",
    )

    def __init__(
        self,
        name: str,
        settings: BreakerSettings,
        clock: Clock = time.monotonic,
        listener: Listener | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self._clock = clock
        self.listener = listener
        self.state = CircuitState.CLOSED
        self.opened_until = 0.0
        self._bucket_len = settings.window / _BUCKETS
        self._fails = [0] * _BUCKETS
        self._total = [0] * _BUCKETS
        self._slot = int(clock() // self._bucket_len)
        self._probes = 0  # half-open probes in flight
        self._probe_ok = 0

    # ---- the window ------------------------------------------------------------------------
    def _advance(self, now: float) -> int:
        slot = int(now // self._bucket_len)
        gap = slot - self._slot
        if gap > 0:
            for i in range(1, min(gap, _BUCKETS) + 1):
                j = (self._slot + i) % _BUCKETS
                self._fails[j] = 0
                self._total[j] = 0
            self._slot = slot
        return slot % _BUCKETS

    def counts(self) -> tuple[int, int]:
        """(failures, requests) in the window."""
        self._advance(self._clock())
        return sum(self._fails), sum(self._total)

    # ---- state -----------------------------------------------------------------------------
    def current(self) -> CircuitState:
        """The state now (an open circuit whose time is up reads as half-open)."""
        if self.state is CircuitState.OPEN and self._clock() >= self.opened_until:
            self._set(CircuitState.HALF_OPEN)
        return self.state

    def allow(self) -> bool:
        """May a request go to this deployment now? In half-open, admits up to ``probes`` at once."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if self.current() is CircuitState.OPEN:
            return False
        if self._probes < self.settings.probes:
            self._probes += 1
            return True
        return False

    def available(self) -> bool:
        """Like ``allow()`` but without taking a probe slot (for choosing among deployments)."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        return self.current() is CircuitState.HALF_OPEN and self._probes < self.settings.probes

    def success(self) -> None:
        if self.state is CircuitState.CLOSED:
            self._total[self._advance(self._clock())] += 1
            return
        if self.state is CircuitState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            self._probe_ok += 1
            if self._probe_ok >= self.settings.close_after:
                self.close()

    def failure(self) -> None:
        if self.state is CircuitState.CLOSED:
            i = self._advance(self._clock())
            self._total[i] += 1
            self._fails[i] += 1
            fails, total = sum(self._fails), sum(self._total)
            if total >= self.settings.min_requests and fails >= self.settings.failure_rate * total:
                self.trip()
            return
        if self.state is CircuitState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            self.trip()

    def release(self) -> None:
        """The call ended without a verdict (cancelled, client error): free a probe slot."""
        if self.state is CircuitState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)

    def trip(self, until: float | None = None) -> None:
        """Open the circuit (until ``until`` on this breaker's clock, default ``open_for`` from now)."""
        self.opened_until = until if until is not None else self._clock() + self.settings.open_for
        self._probes = 0
        self._probe_ok = 0
        self._set(CircuitState.OPEN)

    def close(self) -> None:
        self._fails = [0] * _BUCKETS
        self._total = [0] * _BUCKETS
        self._probes = 0
        self._probe_ok = 0
        self._set(CircuitState.CLOSED)

    def _set(self, state: CircuitState) -> None:
        if state is not self.state:
            self.state = state
            if self.listener is not None:
                self.listener(self, state)

    def snapshot(self) -> dict[str, object]:
        fails, total = self.counts()
        state = self.current()
        out: dict[str, object] = {
            "state": state.name.lower(),
            "failures": fails,
            "requests": total,
            "failure_rate": round(fails / total, 4) if total else 0.0,
        }
        if state is CircuitState.OPEN:
            out["retry_in_seconds"] = round(max(0.0, self.opened_until - self._clock()), 3)
        return out
