"""CacheStage: exact then semantic lookup before the call, store after it (streams included)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from portico.cache.answer_groups import answer_group, operator_group
from portico.cache.keys import current_turn, exact_key, partition_of, semantic_scope
from portico.cache.policy import HEADER, Directives, Policy, is_safe, resolve
from portico.cache.protocols import CacheUnavailable, ExactStore, Vector
from portico.cache.replay import StreamRecorder, cacheable, decode, encode, fresh_copy, replay
from portico.cache.semantic import SemanticCache
from portico.cache.settings import CacheSettings
from portico.cache.singleflight import SingleFlight
from portico.errors import CacheMiss
from portico.pipeline import ChunkStream, Next, Reply, RequestContext
from portico.types import ChatResponse, Usage

log = logging.getLogger("portico.cache")

PriceFn = Callable[[str, Usage], float]  # (model, usage) -> USD


@dataclass(slots=True)
class _Plan:
    """What this request may do with the cache, computed once."""

    policy: Policy
    directives: Directives
    key: str
    scope: str | None
    turn: str | None
    model: str
    vector: Vector | None = None


class CacheStage:
    """Serves hits early; stores clean answers. Results: ``ctx.cache_status``, the
    ``x-portico-cache`` response header, ``ctx.saved_usd`` and ``ctx.state["cache"]``."""

    name = "cache"

    def __init__(
        self,
        settings: CacheSettings,
        exact: ExactStore,
        semantic: SemanticCache | None = None,
        *,
        price: PriceFn | None = None,
        flights: SingleFlight | None = None,
    ) -> None:
        self.settings = settings
        self.exact = exact
        self.semantic = semantic
        self._price = price
        self._flights = flights if flights is not None else SingleFlight()

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        directives = Directives.of(ctx.headers)
        policy = resolve(self.settings, ctx)
        if policy.tier == "off" or not is_safe(ctx.request, policy, self.settings):
            if directives.only_if_cached:
                raise CacheMiss("only-if-cached: this request is not cacheable (see docs/cache.md)")
            self._status(ctx, "bypass")
            return await call_next(ctx)
        plan = self._plan(ctx, policy, directives)
        if not directives.no_cache:
            hit = await self._lookup(ctx, plan)
            if hit is not None:
                return hit
        if directives.only_if_cached:
            raise CacheMiss("only-if-cached: no cached answer for this request")
        self._status(ctx, "miss")
        if not self.settings.single_flight or directives.no_cache:
            return await self._call_and_store(ctx, call_next, plan, lead=False)
        event = self._flights.join(plan.key)
        if event is None:
            return await self._call_and_store(ctx, call_next, plan, lead=True)
        try:
            await asyncio.wait_for(event.wait(), self.settings.single_flight_timeout_seconds)
        except TimeoutError:
            log.warning("cache single flight: leader slower than %ss", self.settings.single_flight_timeout_seconds)
        raw = await self._get(plan.key)
        if raw is not None:
            return self._serve(ctx, raw, "exact", None)
        return await self._call_and_store(ctx, call_next, plan, lead=False)

    def _plan(self, ctx: RequestContext, policy: Policy, directives: Directives) -> _Plan:
        tenant = partition_of(ctx.caller, self.settings.partition)
        turn = current_turn(ctx.request) if policy.tier == "semantic" and self.semantic else None
        scope = semantic_scope(ctx.request, ctx.model, tenant) if turn else None
        return _Plan(policy, directives, exact_key(ctx.request, ctx.model, tenant), scope, turn, ctx.model)

    async def _lookup(self, ctx: RequestContext, plan: _Plan) -> Reply | None:
        started = time.perf_counter()
        raw = await self._get(plan.key)
        if raw is not None:
            return self._serve(ctx, raw, "exact", None, started)
        if self.semantic is None or plan.scope is None or plan.turn is None:
            return None
        try:
            found = await self.semantic.lookup(plan.scope, plan.turn, verifier_threshold=plan.policy.verifier_threshold)
        except CacheUnavailable as exc:
            log.warning("semantic cache unavailable: %s", exc)
            return None
        plan.vector = found.vector
        decision = found.decision
        ctx.state["cache"] = {
            "nearest_similarity": found.nearest_similarity,
            "veto": decision.veto if decision else None,
            "score": decision.score if decision else None,
        }
        log.info(
            "cache lookup request=%s nearest_similarity=%s hit=%s veto=%s",
            ctx.request_id,
            found.nearest_similarity,
            found.hit is not None,
            decision.veto if decision else None,
        )
        if found.hit is None or decision is None:
            return None
        for key in (found.hit.entry_key, *found.alternates):
            raw = await self._get(key)
            if raw is not None:
                break
        else:  # the answer expired or was evicted before its vector
            return None
        return self._serve(ctx, raw, "semantic", decision.similarity, started)

    def _serve(
        self,
        ctx: RequestContext,
        raw: bytes,
        tier: str,
        similarity: float | None,
        started: float | None = None,
    ) -> Reply:
        stored = decode(raw)
        response = fresh_copy(stored)
        self._status(ctx, "exact" if similarity is None else f"semantic; similarity={similarity:.2f}")
        ctx.usage = Usage()  # nothing was consumed upstream
        ctx.cost_usd = 0.0
        ctx.saved_usd = self._price(stored.model, stored.usage) if self._price else 0.0
        info = ctx.state.setdefault("cache", {})
        info.update(tier=tier, similarity=similarity, saved_usd=ctx.saved_usd)
        if started is not None:
            info["lookup_ms"] = (time.perf_counter() - started) * 1000
        if ctx.stream:
            return ChunkStream(replay(response, ctx.request.include_usage))
        return response

    async def _call_and_store(self, ctx: RequestContext, call_next: Next, plan: _Plan, *, lead: bool) -> Reply:
        try:
            reply = await call_next(ctx)
        except BaseException:
            if lead:
                self._flights.release(plan.key)
            raise
        if isinstance(reply, ChatResponse):
            try:
                if self._storable(ctx, plan) and cacheable(reply):
                    await self._store(plan, reply)
            finally:
                if lead:
                    self._flights.release(plan.key)
            return reply
        recorder = StreamRecorder()
        reply.wrap(recorder.record)

        async def finish(ctx: RequestContext, error: BaseException | None) -> None:
            try:
                if error is None and not ctx.client_disconnected and self._storable(ctx, plan):
                    answer = recorder.response(ctx.usage)
                    if answer is not None and cacheable(answer):
                        await self._store(plan, answer)
            finally:
                if lead:
                    self._flights.release(plan.key)

        reply.on_close(finish)
        return reply

    def _storable(self, ctx: RequestContext, plan: _Plan) -> bool:
        if plan.directives.no_store or ctx.status != 200:
            return False
        # A fallback answer from another model must not be filed under this model's key; a
        # router's pick (ctx.state["routing"], when the cache sits before the router) is part
        # of the answer to this request and may be.
        if "fallback" in ctx.route_reason:
            return False
        return ctx.model == plan.model or "routing" in ctx.state

    async def _store(self, plan: _Plan, response: ChatResponse) -> None:
        ttl = plan.policy.ttl_seconds
        try:
            await self.exact.set(plan.key, encode(response), ttl)
            if self.semantic is not None and plan.scope is not None and plan.turn is not None:
                vector = plan.vector if plan.vector is not None else await self.semantic.embed(plan.turn)
                group = ""
                if self.semantic.groups is not None:
                    named = plan.directives.group
                    group = operator_group(named) if named else answer_group(response)
                await self.semantic.add(plan.scope, plan.turn, vector, plan.key, ttl, group)
        except CacheUnavailable as exc:
            log.warning("cache store skipped: %s", exc)

    async def _get(self, key: str) -> bytes | None:
        try:
            return await self.exact.get(key)
        except CacheUnavailable as exc:
            log.warning("exact cache unavailable: %s", exc)
            return None

    def attach_semantic(self, semantic: SemanticCache) -> None:
        """Add the semantic tier once the shared embedder is loaded (gateway start)."""
        self.semantic = semantic

    async def aclose(self) -> None:
        await self.exact.aclose()
        if self.semantic is not None:
            await self.semantic.aclose()

    @staticmethod
    def _status(ctx: RequestContext, status: str) -> None:
        ctx.cache_status = status
        ctx.response_headers[HEADER] = status


__all__ = ["CacheStage", "PriceFn"]
