"""The in-process Limiter: exact for one process (admission runs without an ``await`` inside)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from portico.limits.limiter import (
    Admission,
    Quota,
    ScopeLimits,
    SpendLoader,
    period_window,
    to_nano,
)
from portico.limits.refusal import refuse
from portico.limits.window import reset_after, wait_until_free, window_sum


@dataclass(slots=True)
class _Scope:
    requests: dict[int, int] = field(default_factory=dict)
    tokens: dict[int, int] = field(default_factory=dict)
    leases: dict[str, float] = field(default_factory=dict)  # ticket -> expiry (concurrency)
    spent: dict[str, int] = field(default_factory=dict)  # period id -> nano-USD settled
    reserved: dict[str, dict[str, tuple[int, float]]] = field(default_factory=dict)  # period -> ticket -> (nano, exp)


class MemoryLimiter:
    """RPM/TPM over a sliding window of 1 s buckets, concurrency leases, budget reservations."""

    def __init__(
        self,
        *,
        window_s: int = 60,
        lease_s: int = 900,
        spend_loader: SpendLoader | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.window_s = window_s
        self.lease_s = lease_s
        self.spend_loader = spend_loader
        self.clock = clock
        self._scopes: dict[str, _Scope] = {}

    def _scope(self, name: str) -> _Scope:
        st = self._scopes.get(name)
        if st is None:
            st = self._scopes[name] = _Scope()
        return st

    async def _seed(self, scopes: Sequence[ScopeLimits], now: float) -> None:
        for lim in scopes:
            if lim.budget_usd is None:
                continue
            pw = period_window(lim.period, now)
            st = self._scope(lim.scope)
            if pw.id not in st.spent:
                spent = await self.spend_loader(lim.scope, pw.start) if self.spend_loader else 0.0
                st.spent.setdefault(pw.id, to_nano(spent))

    async def admit(self, ticket: str, scopes: Sequence[ScopeLimits], *, tokens: int, cost_usd: float) -> Admission:
        await self._seed(scopes, self.clock())
        # From here on no await: the check and the reservation are one atomic step.
        now = self.clock()
        sec = int(now)
        cost = to_nano(cost_usd)
        quota = Quota()
        best_req: int | None = None
        best_tok: int | None = None
        for lim in scopes:
            st = self._scope(lim.scope)
            if lim.rpm is not None:
                used = window_sum(st.requests, sec, self.window_s)
                if used + 1 > lim.rpm:
                    q = Quota(lim.rpm, 0, reset_after(st.requests, now, self.window_s))
                    raise refuse(
                        "rpm",
                        lim.scope,
                        wait_until_free(st.requests, used + 1 - lim.rpm, now, self.window_s),
                        q,
                    )
                if best_req is None or lim.rpm - used - 1 < best_req:
                    best_req = lim.rpm - used - 1
                    quota.limit_requests, quota.remaining_requests = lim.rpm, best_req
                    quota.reset_requests_s = reset_after({**st.requests, sec: 1}, now, self.window_s)
            if lim.tpm is not None:
                used = window_sum(st.tokens, sec, self.window_s)
                q = Quota(
                    limit_tokens=lim.tpm,
                    remaining_tokens=lim.tpm - used,
                    reset_tokens_s=reset_after(st.tokens, now, self.window_s),
                )
                if tokens > lim.tpm:
                    raise refuse("too_large", lim.scope, None, q)
                if used + tokens > lim.tpm:
                    raise refuse(
                        "tpm",
                        lim.scope,
                        wait_until_free(st.tokens, used + tokens - lim.tpm, now, self.window_s),
                        q,
                    )
                if best_tok is None or lim.tpm - used - tokens < best_tok:
                    best_tok = lim.tpm - used - tokens
                    quota.limit_tokens, quota.remaining_tokens = lim.tpm, best_tok
                    quota.reset_tokens_s = reset_after({**st.tokens, sec: 1}, now, self.window_s)
            if lim.max_concurrency is not None:
                for t in [t for t, exp in st.leases.items() if exp <= now]:
                    del st.leases[t]
                if len(st.leases) >= lim.max_concurrency:
                    raise refuse("concurrency", lim.scope, 1.0, quota)
            if lim.budget_usd is not None:
                pw = period_window(lim.period, now)
                res = st.reserved.setdefault(pw.id, {})
                for t in [t for t, (_, exp) in res.items() if exp <= now]:
                    del res[t]
                total = st.spent.get(pw.id, 0) + sum(a for a, _ in res.values()) + cost
                if total > to_nano(lim.budget_usd):
                    raise refuse("budget", lim.scope, pw.retry_after(now), quota)
        for lim in scopes:
            st = self._scope(lim.scope)
            if lim.rpm is not None:
                st.requests[sec] = st.requests.get(sec, 0) + 1
            if lim.tpm is not None:
                st.tokens[sec] = st.tokens.get(sec, 0) + tokens
            if lim.max_concurrency is not None:
                st.leases[ticket] = now + self.lease_s
            if lim.budget_usd is not None:
                st.reserved[period_window(lim.period, now).id][ticket] = (cost, now + self.lease_s)
        return Admission(ticket, tuple(scopes), tokens, cost, sec, now, quota)

    async def settle(self, admission: Admission, *, tokens: int, cost_usd: float) -> None:
        if admission.settled or admission.degraded:
            admission.settled = True
            return
        admission.settled = True
        cost = to_nano(cost_usd)
        for lim in admission.scopes:
            st = self._scope(lim.scope)
            if lim.tpm is not None and admission.window_second in st.tokens:
                st.tokens[admission.window_second] += tokens - admission.tokens
            st.leases.pop(admission.ticket, None)
            if lim.budget_usd is not None:
                pid = period_window(lim.period, admission.at).id  # charged to the admission's period
                st.reserved.get(pid, {}).pop(admission.ticket, None)
                if pid in st.spent:
                    st.spent[pid] += cost

    async def close(self) -> None:
        self._scopes.clear()
