"""The terminal stage: call a model on one of its deployments, resiliently, and account for the answer.

Per request: pick a usable deployment with the model's balancing strategy, try it, and on a
retryable failure try again (another deployment first, backing off with full jitter when
the same one must be retried, honouring Retry-After) within a total deadline; when the
model gives up, walk its fallback chain (a special chain for context-window, content-policy
and rate-limit failures). Streams fail over only until their first meaningful chunk: after
that nothing is retried, and an upstream failure reaches the client as an SSE error event.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client import CollectorRegistry

from portico.errors import (
    InvalidRequest,
    ModelNotFound,
    PorticoError,
    RateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from portico.limits.prices import BATCH_TIER
from portico.pipeline import ChunkStream, Reply, RequestContext
from portico.providers.base import approx_tokens
from portico.resilience.attempt import Lease, OpenStream, begin, chat_attempt, stream_attempt
from portico.resilience.balancer import STRATEGIES, Strategy
from portico.resilience.breaker import CircuitBreaker, CircuitState, Clock
from portico.resilience.classify import Failure, cause, classify
from portico.resilience.deployments import Deployment
from portico.resilience.settings import (
    BreakerSettings,
    HedgeSettings,
    ModelPolicy,
    ResilienceSettings,
    RetrySettings,
)
from portico.resilience.telemetry import Telemetry
from portico.types import ChatChunk, ChatRequest, ChatResponse, Usage

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Attempt = Callable[[Lease, ChatRequest, float], Awaitable[T]]


@dataclass(slots=True)
class ModelPlan:
    """A model's deployments with its resolved policy (built once)."""

    name: str
    group: list[Deployment]
    policy: ModelPolicy
    strategy: Strategy
    context_window: int | None  # the largest of its deployments', if every one declares it
    deadline: float  # seconds: retry.deadline, else the longest timeout.total of its deployments


@dataclass(slots=True)
class Trace:
    """What happened while serving one call: for headers, metrics and the route reason."""

    attempts: int = 0
    fallbacks: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, cause)
    hedged: bool = False


class ModelCaller:
    """Calls ``ctx.model`` via its deployments: balancing, retries, breakers, hedging, fallbacks."""

    def __init__(
        self,
        deployments: dict[str, list[Deployment]],
        settings: ResilienceSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.deployments = deployments
        self.settings = settings or ResilienceSettings()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._transition_hooks: list[Callable[[Deployment, CircuitState], None]] = []
        self._by_breaker: dict[str, Deployment] = {}
        self.plans: dict[str, ModelPlan] = {name: self._build_plan(name, group) for name, group in deployments.items()}
        self.telemetry = Telemetry(registry, self._circuit_states)

    # ---- assembly -----------------------------------------------------------------------------
    def _policy(self, name: str) -> ModelPolicy:
        policy = self.settings.policy(name)
        if self.settings.enabled:
            return policy
        return ModelPolicy(
            routing_strategy=policy.routing_strategy,
            retry=RetrySettings(enabled=False, max_attempts=1),
            breaker=BreakerSettings(enabled=False),
            hedge=HedgeSettings(enabled=False),
        )

    def _build_plan(self, name: str, group: list[Deployment]) -> ModelPlan:
        policy = self._policy(name)
        for d in group:
            d.breaker = None
            if policy.breaker.enabled:
                d.breaker = CircuitBreaker(d.id, policy.breaker, self._clock, self._on_transition)
                self._by_breaker[d.id] = d
        windows = [d.settings.context_window for d in group]
        window = max(w for w in windows if w is not None) if windows and None not in windows else None
        deadline = policy.retry.deadline or max((d.settings.timeout.total for d in group), default=600.0)
        return ModelPlan(name, group, policy, STRATEGIES[policy.routing_strategy], window, deadline)

    def on_transition(self, hook: Callable[[Deployment, CircuitState], None]) -> None:
        """Call ``hook(deployment, new_state)`` on every circuit transition (shared state, logs)."""
        self._transition_hooks.append(hook)

    def _on_transition(self, breaker: CircuitBreaker, state: CircuitState) -> None:
        d = self._by_breaker.get(breaker.name)
        if d is not None:
            for hook in self._transition_hooks:
                hook(d, state)

    def _circuit_states(self) -> Iterator[tuple[str, str, CircuitState]]:
        for plan in self.plans.values():
            for d in plan.group:
                yield d.id, d.name, d.breaker.current() if d.breaker is not None else CircuitState.CLOSED

    def plan(self, model: str) -> ModelPlan:
        plan = self.plans.get(model)
        if plan is None:
            raise ModelNotFound(f"The model '{model}' does not exist.", param="model")
        return plan

    def all_deployments(self) -> Iterator[Deployment]:
        for plan in self.plans.values():
            yield from plan.group

    # ---- the stage and the side-call API ------------------------------------------------------
    async def __call__(self, ctx: RequestContext) -> Reply:
        if ctx.request.stream:
            return ChunkStream(self._stream(ctx))
        trace = Trace()
        started = time.perf_counter()
        try:
            d, response = await self._run(ctx.model, ctx.request, chat_attempt, trace, ctx)
        finally:
            ctx.upstream_seconds += time.perf_counter() - started
            self._explain(ctx, trace)
        ctx.model, ctx.deployment = d.name, d.id
        settle(ctx, d, response.usage)
        d.tpm.add(self._clock(), response.usage.completion_tokens)  # the prompt was counted at admission
        return response

    async def call(self, ctx: RequestContext, model: str, req: ChatRequest) -> ChatResponse:
        """Call ``model`` with ``req`` outside the main request (cascade, ensemble, judges, repairs).
        Same retries, breakers and fallbacks; the caller accounts for usage and cost."""
        started = time.perf_counter()
        try:
            _d, response = await self._run(model, req, chat_attempt, Trace(), ctx)
        finally:
            ctx.upstream_seconds += time.perf_counter() - started
        return response

    def _explain(self, ctx: RequestContext, trace: Trace) -> None:
        ctx.attempts += trace.attempts
        if trace.fallbacks:
            first, _to, why = trace.fallbacks[0]
            reason = f"fallback from {first} after {why}"
            if len(trace.fallbacks) > 1:
                reason += " via " + ", ".join(f"{a} ({w})" for a, _b, w in trace.fallbacks[1:])
            ctx.route_reason = reason if ctx.route_reason == "direct" else f"{ctx.route_reason}; {reason}"
        if trace.hedged:
            ctx.response_headers["x-portico-hedged"] = "1"

    # ---- streams ----------------------------------------------------------------------------
    async def _stream(self, ctx: RequestContext) -> AsyncIterator[ChatChunk]:
        trace = Trace()
        started = time.perf_counter()
        try:
            d, opened = await self._run(ctx.model, ctx.request, stream_attempt, trace, ctx)
        except BaseException:
            ctx.upstream_seconds += time.perf_counter() - started
            raise
        finally:
            self._explain(ctx, trace)
        ctx.model, ctx.deployment = d.name, d.id
        ctx.first_token_seconds = opened.first_token_at - ctx.started
        usage: Usage | None = None
        generated: list[str] = []
        error: BaseException | None = None
        try:
            for chunk in opened.head:
                if chunk.usage is not None:  # priced before the usage chunk reaches the client
                    usage = chunk.usage
                    settle(ctx, d, usage)
                generated.append(chunk.text)
                yield chunk
            if not opened.exhausted:
                async for chunk in opened.chunks:
                    if chunk.usage is not None:
                        usage = chunk.usage
                        settle(ctx, d, usage)
                    generated.append(chunk.text)
                    yield chunk
        except BaseException as exc:
            error = exc
            raise
        finally:
            await opened.aclose()
            opened.lease.end(error, latency=opened.first_token_at - opened.lease.started)
            ctx.upstream_seconds += time.perf_counter() - started
            if usage is None:  # cut stream or client gone: estimate what was generated
                usage = Usage.of(approx_tokens(ctx.request.prompt_text()), approx_tokens("".join(generated)))
            settle(ctx, d, usage)
            d.tpm.add(self._clock(), usage.completion_tokens)

    # ---- fallbacks across models ------------------------------------------------------------
    async def _run(
        self, model: str, req: ChatRequest, attempt: Attempt[T], trace: Trace, ctx: RequestContext
    ) -> tuple[Deployment, T]:
        primary = self.plan(model)
        budget = primary.deadline
        if ctx.deadline is not None:  # the request's own deadline bounds everything below
            left = ctx.deadline - time.monotonic()
            if left <= 0:
                raise UpstreamTimeout(
                    f"The request's deadline ({ctx.deadline_seconds:g} s from {ctx.deadline_source}) passed "
                    f"before '{model}' could be called.",
                    code="deadline_exceeded",
                )
            budget = min(budget, left)
        deadline = self._clock() + budget
        visited = [model]
        plan = primary
        while True:
            try:
                self._check_context(plan, req)
                return await self._call_model(plan, req, attempt, deadline, trace)
            except PorticoError as exc:
                nxt = self._next_fallback(primary.policy, classify(exc), visited)
                if nxt is None or self._clock() >= deadline:
                    raise
                why = cause(exc)
                trace.fallbacks.append((plan.name, nxt.name, why))
                self.telemetry.fallback(plan.name, nxt.name, why)
                visited.append(nxt.name)
                plan = nxt

    def _next_fallback(self, policy: ModelPolicy, kind: Failure, visited: list[str]) -> ModelPlan | None:
        if kind is Failure.FATAL:
            return None
        chain = {
            Failure.CONTEXT_WINDOW: policy.on_context_window or policy.fallbacks,
            Failure.CONTENT_POLICY: policy.on_content_policy,
            Failure.RATE_LIMITED: policy.on_rate_limited or policy.fallbacks,
        }.get(kind, policy.fallbacks)
        for name in chain:
            if name not in visited and name in self.plans:
                return self.plans[name]
        return None

    def _check_context(self, plan: ModelPlan, req: ChatRequest) -> None:
        if plan.context_window is None:
            return
        estimate = approx_tokens(req.prompt_text())
        if estimate > plan.context_window:
            raise InvalidRequest(
                f"The prompt (~{estimate} tokens) exceeds the context window of '{plan.name}' "
                f"({plan.context_window} tokens).",
                code="context_length_exceeded",
                param="messages",
            )

    # ---- retries within one model -----------------------------------------------------------
    async def _call_model(
        self, plan: ModelPlan, req: ChatRequest, attempt: Attempt[T], deadline: float, trace: Trace
    ) -> tuple[Deployment, T]:
        retry = plan.policy.retry
        max_attempts = retry.max_attempts if retry.enabled else 1
        tried: set[str] = set()
        last: PorticoError | None = None
        tries = 0
        waited = False  # just waited out a Retry-After: no further backoff
        while tries < max_attempts:
            now = self._clock()
            remaining = deadline - now
            if remaining <= 0:
                break
            d = self._pick(plan, tried, now, repeat=True)
            if d is None:
                wait = self._soonest_cooldown(plan, now)
                if retry.enabled and wait is not None and wait <= min(retry.max_retry_after, remaining):
                    # every deployment is cooling down after a 429: honour the Retry-After
                    await self._sleep(wait)
                    waited = True
                    continue
                last = last or self._nothing_usable(plan, now)
                break
            if d.id in tried and not waited:  # no untried deployment left: back off before the same one
                delay = self._backoff(retry, tries, last)
                if delay is None or delay >= remaining:
                    break
                if delay > 0:
                    await self._sleep(delay)
            tried.add(d.id)
            tries += 1
            waited = False
            try:
                if plan.policy.hedge.enabled:
                    return await self._hedged(plan, d, req, attempt, deadline, trace, tried)
                return d, await self._one(d, req, attempt, deadline, trace)
            except PorticoError as exc:
                last = exc
                kind = classify(exc)
                if kind is Failure.RATE_LIMITED and exc.retry_after:
                    d.cooldown_until = self._clock() + exc.retry_after
                if kind not in (Failure.RETRYABLE, Failure.RATE_LIMITED) or not retry.enabled:
                    raise
        if last is None:
            last = UpstreamUnavailable(f"No attempt on '{plan.name}' fitted in the deadline.", code="deadline_exceeded")
        raise last

    def _pick(self, plan: ModelPlan, tried: set[str], now: float, *, repeat: bool) -> Deployment | None:
        """A usable deployment, untried ones first (``repeat``: else a tried one)."""
        fresh = [d for d in plan.group if d.id not in tried and d.usable(now)]
        if not fresh and repeat:
            fresh = [d for d in plan.group if d.usable(now)]
        if not fresh:
            return None
        return fresh[0] if len(fresh) == 1 else plan.strategy(fresh, self._rng)

    def _soonest_cooldown(self, plan: ModelPlan, now: float) -> float | None:
        waits = [d.cooldown_until - now for d in plan.group if d.cooldown_until > now]
        return min(waits) if waits else None

    def _nothing_usable(self, plan: ModelPlan, now: float) -> PorticoError:
        if all(d.breaker is not None and d.breaker.current() is CircuitState.OPEN for d in plan.group):
            soonest = min(d.breaker.opened_until for d in plan.group if d.breaker is not None)
            return UpstreamUnavailable(
                f"Every deployment of '{plan.name}' has an open circuit.",
                code="circuit_open",
                retry_after=max(0.0, soonest - now),
            )
        wait = self._soonest_cooldown(plan, now)
        return RateLimited(
            f"Every deployment of '{plan.name}' is at capacity or rate limited.",
            code="deployments_at_capacity",
            retry_after=wait if wait is not None else 1.0,
        )

    def _backoff(self, retry: RetrySettings, tries: int, last: PorticoError | None) -> float | None:
        """Full jitter: uniform(0, min(max_delay, base * 2^n)), but at least the upstream's Retry-After.
        None: the Retry-After is longer than we are willing to wait."""
        delay = self._rng.uniform(0.0, min(retry.max_delay, retry.base_delay * (2 ** max(0, tries - 1))))
        if last is not None and last.retry_after is not None:
            if last.retry_after > retry.max_retry_after:
                return None
            delay = max(delay, last.retry_after)
        return delay

    # ---- one attempt, maybe hedged ----------------------------------------------------------
    async def _one(self, d: Deployment, req: ChatRequest, attempt: Attempt[T], deadline: float, trace: Trace) -> T:
        if d.breaker is not None and not d.breaker.allow():  # half-open and its probe slots are taken
            raise UpstreamUnavailable(f"Deployment {d.id} has an open circuit.", code="circuit_open")
        trace.attempts += 1
        lease = begin(d, req, self._clock(), self.telemetry)
        return await attempt(lease, req, max(0.001, deadline - self._clock()))

    async def _hedged(
        self,
        plan: ModelPlan,
        first: Deployment,
        req: ChatRequest,
        attempt: Attempt[T],
        deadline: float,
        trace: Trace,
        tried: set[str],
    ) -> tuple[Deployment, T]:
        """Start on ``first``; if no first token after ``hedge.after``, also start on another deployment.
        The first success wins and the other is cancelled (its connection closed)."""
        tasks: dict[asyncio.Task[T], Deployment] = {
            asyncio.ensure_future(self._one(first, req, attempt, deadline, trace)): first
        }
        pending: set[asyncio.Task[T]] = set(tasks)
        winner: asyncio.Task[T] | None = None
        error: BaseException | None = None
        try:
            done, pending = await asyncio.wait(pending, timeout=plan.policy.hedge.after)
            if not done:
                second = self._pick(plan, tried, self._clock(), repeat=False)
                if second is not None:
                    tried.add(second.id)
                    trace.hedged = True
                    task = asyncio.ensure_future(self._one(second, req, attempt, deadline, trace))
                    tasks[task] = second
                    pending.add(task)
            else:
                pending = set()
            for t in done:
                if t.exception() is None:
                    winner = t
                else:
                    error = t.exception()
            while winner is None and pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    exc = t.exception()
                    if exc is None and winner is None:
                        winner = t
                    elif exc is not None:
                        error = exc
            if winner is None:
                assert error is not None
                raise error
            return tasks[winner], winner.result()
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for t in tasks:  # a loser that also finished: close its stream
                if t is not winner and not t.cancelled() and t.exception() is None:
                    result = t.result()
                    if isinstance(result, OpenStream):
                        with contextlib.suppress(Exception):
                            await result.aclose()
                        result.lease.end(asyncio.CancelledError())


def settle(ctx: RequestContext, deployment: Deployment, usage: Usage) -> None:
    ctx.usage = usage
    if ctx.state.get(BATCH_TIER):  # a Batch API line: the deployment's batch price
        own = deployment.settings.batch_price
        if own is not None:
            ctx.cost_usd = own.cost(usage.prompt_tokens, usage.completion_tokens)
            return
        full = deployment.price.cost(usage.prompt_tokens, usage.completion_tokens)
        ctx.cost_usd = full * (1 - deployment.settings.batch_discount)
        return
    ctx.cost_usd = deployment.price.cost(usage.prompt_tokens, usage.completion_tokens)


__all__ = ["ModelCaller", "ModelPlan", "Trace", "settle"]
