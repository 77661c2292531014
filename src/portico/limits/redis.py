"""The Redis Limiter: exact across any number of replicas (one EVALSHA per admit, one per settle)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from portico.errors import PorticoError
from portico.limits.limiter import Admission, Quota, ScopeLimits, SpendLoader, period_window, to_nano
from portico.limits.lua import ADMIT, SETTLE
from portico.limits.refusal import refuse

log = logging.getLogger("portico.limits.redis")

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class LimiterUnavailable(PorticoError):
    """Fail-closed answer when the shared limiter cannot be reached."""

    status = 503
    type = "api_error"
    default_code = "limiter_unavailable"
    retryable_default = True


def _ms(v: Any) -> float:
    return max(0.0, int(v) / 1000)


def _quota(vals: Sequence[Any]) -> Quota:
    rpm, rrem, rreset, tpm, trem, treset = (int(v) for v in vals)
    return Quota(
        limit_requests=rpm if rpm >= 0 else None,
        remaining_requests=rrem if rpm >= 0 else None,
        reset_requests_s=rreset / 1000,
        limit_tokens=tpm if tpm >= 0 else None,
        remaining_tokens=trem if tpm >= 0 else None,
        reset_tokens_s=treset / 1000,
    )


class RedisLimiter:
    """Same semantics as MemoryLimiter, state in Redis; ``on_unavailable(mode)`` counts outages."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "portico:",
        window_s: int = 60,
        lease_s: int = 900,
        fail_open: bool = False,
        spend_loader: SpendLoader | None = None,
        clock: Callable[[], float] | None = None,
        on_unavailable: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.window_s = window_s
        self.lease_s = lease_s
        self.fail_open = fail_open
        self.spend_loader = spend_loader
        self.clock = clock
        self.on_unavailable = on_unavailable
        self._admit = client.register_script(ADMIT)
        self._settle = client.register_script(SETTLE)

    def _keys(self, lim: ScopeLimits, at: float) -> list[str]:
        p = f"{self.prefix}{{{lim.scope}}}"  # hash tag: one scope's keys share a cluster slot
        period = period_window(lim.period, at).id if lim.budget_usd is not None else "-"
        return [f"{p}:rq", f"{p}:tk", f"{p}:cc", f"{p}:bs:{period}", f"{p}:br:{period}"]

    def _now(self) -> float:
        return self.clock() if self.clock else time.time()

    def _unavailable(self, exc: BaseException, what: str) -> None:
        mode = "fail_open" if self.fail_open else "fail_closed"
        log.warning("rate limiter backend unreachable during %s (%s): %s", what, mode, type(exc).__name__)
        if self.on_unavailable is not None:
            self.on_unavailable(mode)

    async def admit(self, ticket: str, scopes: Sequence[ScopeLimits], *, tokens: int, cost_usd: float) -> Admission:
        now = self._now()
        if not scopes:
            return Admission(ticket, (), tokens, to_nano(cost_usd), int(now), now)
        cost = to_nano(cost_usd)
        keys: list[str] = []
        args: list[Any] = [now if self.clock else -1, ticket, tokens, cost, self.window_s, self.lease_s]
        for lim in scopes:
            keys.extend(self._keys(lim, now))
            budget = to_nano(lim.budget_usd) if lim.budget_usd is not None else -1
            args.extend(_or(lim.rpm) + _or(lim.tpm) + _or(lim.max_concurrency) + [budget])
        for _ in range(3):
            try:
                res = await self._admit(keys=keys, args=args)
            except UNREACHABLE as exc:
                self._unavailable(exc, "admission")
                if self.fail_open:
                    return Admission(ticket, tuple(scopes), tokens, cost, int(now), now, degraded=True)
                raise LimiterUnavailable("The rate limiter is unreachable; try again shortly.") from None
            tag = res[0].decode() if isinstance(res[0], bytes) else str(res[0])
            if tag == "ok":
                return Admission(ticket, tuple(scopes), tokens, cost, int(res[1]), now, _quota(res[2:8]))
            if tag == "seed":
                await self._seed([scopes[int(i)] for i in res[1:]], now)
                continue
            lim = scopes[int(res[1])]
            retry: float | None = _ms(res[2]) if int(res[2]) >= 0 else None
            if tag == "budget":
                retry = period_window(lim.period, now).retry_after(now)
            raise refuse(tag, lim.scope, retry, _quota(res[3:9]))
        raise LimiterUnavailable("The budget counters could not be initialised; try again.")

    async def _seed(self, scopes: Sequence[ScopeLimits], now: float) -> None:
        for lim in scopes:
            pw = period_window(lim.period, now)
            spent = await self.spend_loader(lim.scope, pw.start) if self.spend_loader else 0.0
            try:
                # NX: another replica may have seeded (and charged) it meanwhile; theirs wins.
                await self.client.set(self._keys(lim, now)[3], to_nano(spent), nx=True, ex=pw.ttl_s(now))
            except UNREACHABLE as exc:
                self._unavailable(exc, "budget seeding")
                raise LimiterUnavailable("The rate limiter is unreachable; try again shortly.") from None

    async def settle(self, admission: Admission, *, tokens: int, cost_usd: float) -> None:
        if admission.settled or admission.degraded or not admission.scopes:
            admission.settled = True
            return
        admission.settled = True
        keys: list[str] = []
        flags: list[str] = []
        for lim in admission.scopes:
            keys.extend(self._keys(lim, admission.at))
            flags.append(
                "x"
                + ("1" if lim.tpm is not None else "0")
                + ("1" if lim.max_concurrency is not None else "0")
                + ("1" if lim.budget_usd is not None else "0")
            )
        args: list[str | int] = [
            admission.ticket,
            admission.window_second,
            tokens - admission.tokens,
            admission.cost_nano,
            to_nano(cost_usd),
            *flags,
        ]
        try:
            await self._settle(keys=keys, args=args)
        except UNREACHABLE as exc:
            # The leases expire by themselves; the spend is in the ledger and re-seeds the counter.
            self._unavailable(exc, "settle")

    async def close(self) -> None:
        await self.client.aclose()


def _or(v: int | None) -> list[int]:
    return [v if v is not None else -1]
