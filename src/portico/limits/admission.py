"""AdmissionStage: rate limits, concurrency and budget reservation before the call; settle after."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Collection

from portico.auth.principal import STATE_KEY, Principal
from portico.limits import estimate
from portico.limits.limiter import Admission, Limiter
from portico.limits.prices import BATCH_TIER, PriceCatalog
from portico.limits.refusal import quota_headers
from portico.limits.usage import fill_cost, final_usage
from portico.pipeline import ChunkStream, Next, Reply, RequestContext
from portico.pipeline.context import is_cache_hit

ADMISSION_KEY = "portico.limits.admission"


class AdmissionStage:
    """Admits a keyed request against its key's and team's limits (one limiter round trip),
    reserving the estimated tokens and the maximum possible cost (prompt estimate + max_tokens,
    priced); settles the real usage and cost when the reply ends (also cut or failed streams)."""

    def __init__(
        self,
        limiter: Limiter,
        catalog: PriceCatalog,
        *,
        configured_models: Collection[str] = (),
        chars_per_token: float = 3.0,
        default_max_tokens: int = 4096,
    ) -> None:
        self.limiter = limiter
        self.catalog = catalog
        self.configured = frozenset(configured_models)
        self.chars_per_token = chars_per_token
        self.default_max_tokens = default_max_tokens
        # Ticket ids only need to be unique among in-flight requests of all replicas.
        self._tickets = (f"{secrets.token_hex(4)}{n:x}" for n in itertools.count())
        self._priciest = max(
            (catalog.price(m) for m in self.configured),
            key=lambda p: p.input_per_mtok + p.output_per_mtok,
            default=None,
        )

    def _max_cost(self, model: str, prompt: int, completion: int, *, batch: bool = False) -> float:
        # A name that is not a configured model (a router alias such as "auto") may be served by
        # any model: reserve at the most expensive one's price.
        if model in self.configured or self._priciest is None:
            return self.catalog.cost(model, prompt, completion, batch=batch)
        return self._priciest.cost(prompt, completion)

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        principal: Principal | None = ctx.state.get(STATE_KEY)
        if principal is None or not principal.scopes:
            return await call_next(ctx)
        req = ctx.request
        prompt = estimate.prompt_tokens(req, self.chars_per_token)
        completion = (req.output_limit or self.default_max_tokens) * req.n
        admission = await self.limiter.admit(
            next(self._tickets),
            principal.scopes,
            tokens=prompt + completion,
            cost_usd=self._max_cost(ctx.model_requested, prompt, completion, batch=bool(ctx.state.get(BATCH_TIER))),
        )
        ctx.state[ADMISSION_KEY] = admission
        ctx.response_headers.update(quota_headers(admission.quota))
        try:
            reply = await call_next(ctx)
        except BaseException:
            await self._settle(ctx, admission)
            raise
        if isinstance(reply, ChunkStream):
            reply.on_close(lambda c, _err: self._settle(c, admission))
            return reply
        await self._settle(ctx, admission)
        return reply

    async def _settle(self, ctx: RequestContext, admission: Admission) -> None:
        usage = final_usage(ctx)
        cost = fill_cost(ctx, self.catalog)
        # A cache hit used no upstream tokens: it releases its whole token reservation.
        served = not is_cache_hit(ctx.cache_status)
        tokens = usage.prompt_tokens + usage.completion_tokens if served else 0
        await self.limiter.settle(admission, tokens=tokens, cost_usd=cost)
