"""One attempt on one deployment: in-flight and capacity accounting, breaker verdict, latency sample."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from portico.errors import PorticoError, UpstreamError, UpstreamTimeout
from portico.providers.base import approx_tokens
from portico.resilience.classify import classify, hurts_breaker, outcome_label
from portico.resilience.deployments import Deployment
from portico.resilience.telemetry import Telemetry
from portico.types import ChatChunk, ChatRequest, ChatResponse

_FAILURE_LATENCY = 1.0  # seconds charged to the EWMA for a failure, so fast failures do not look fast


@dataclass(slots=True)
class Lease:
    """An attempt in progress on ``deployment``; ``end`` exactly once."""

    deployment: Deployment
    telemetry: Telemetry
    started: float = field(default_factory=time.perf_counter)
    ended: bool = False

    def end(self, error: BaseException | None, *, latency: float | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        d = self.deployment
        d.in_flight -= 1
        breaker = d.breaker
        if error is None:
            d.observe_latency(latency if latency is not None else time.perf_counter() - self.started)
            if breaker is not None:
                breaker.success()
            self.telemetry.attempt(d.name, "ok")
            return
        if not isinstance(error, PorticoError):  # cancelled (client gone, hedge lost): no verdict
            if breaker is not None:
                breaker.release()
            self.telemetry.attempt(d.name, "cancelled")
            return
        kind = classify(error)
        if hurts_breaker(error, kind):
            d.observe_latency(max(time.perf_counter() - self.started, _FAILURE_LATENCY))
            if breaker is not None:
                breaker.failure()
        elif breaker is not None:
            breaker.success()  # the deployment answered properly; the request was the problem
        self.telemetry.attempt(d.name, outcome_label(error))


def begin(d: Deployment, req: ChatRequest, now: float, telemetry: Telemetry) -> Lease:
    d.in_flight += 1
    d.rpm.add(now, 1)
    if d.tpm.limit is not None:
        d.tpm.add(now, approx_tokens(req.prompt_text()))
    return Lease(d, telemetry)


async def chat_attempt(lease: Lease, req: ChatRequest, timeout: float) -> ChatResponse:
    d = lease.deployment
    try:
        if timeout < d.settings.timeout.total - 0.01:  # the deadline comes before the provider's own limit
            async with asyncio.timeout(timeout):
                response = await d.provider.chat(req, d.upstream_model)
        else:  # the provider's timeouts fire first: spare the timer (~10 µs per request)
            response = await d.provider.chat(req, d.upstream_model)
    except TimeoutError:
        exc = UpstreamTimeout(f"Deployment {d.id} did not answer within the {timeout:.3g}s left.")
        lease.end(exc)
        raise exc from None
    except BaseException as exc:
        lease.end(exc)
        raise
    lease.end(None)
    return response


def meaningful(chunk: ChatChunk) -> bool:
    """Does this chunk carry something the client must not see twice (text, tool calls, an end)?"""
    if chunk.usage is not None:
        return True
    return any(c.delta.content or c.delta.tool_calls or c.finish_reason for c in chunk.choices)


@dataclass(slots=True)
class OpenStream:
    """A stream whose first meaningful chunk has arrived: nothing has reached the client yet."""

    lease: Lease
    chunks: AsyncIterator[ChatChunk]
    head: list[ChatChunk]
    exhausted: bool
    first_token_at: float

    async def aclose(self) -> None:
        aclose = getattr(self.chunks, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


async def stream_attempt(lease: Lease, req: ChatRequest, timeout: float) -> OpenStream:
    """Open a stream and read up to its first meaningful chunk; failures here can still fail over."""
    d = lease.deployment
    # The provider bounds the wait per SSE line; this also bounds the wait for the response headers.
    timeout = min(timeout, d.settings.timeout.first_token)
    chunks = d.provider.stream(req, d.upstream_model)
    head: list[ChatChunk] = []
    exhausted = False
    try:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    exhausted = True
                    break
                head.append(chunk)
                if meaningful(chunk):
                    break
        if exhausted and not any(meaningful(c) for c in head):
            raise UpstreamError(f"Deployment {d.id} ended the stream before any content.", code="stream_truncated")
    except BaseException as exc:
        error: BaseException = exc
        if isinstance(exc, TimeoutError):
            error = UpstreamTimeout(f"Deployment {d.id} sent no first token within the {timeout:.3g}s left.")
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
        lease.end(error)
        if error is not exc:
            raise error from None
        raise
    first = time.perf_counter()
    # The breaker verdict waits for the end of the stream; the latency sample is the time to first token.
    return OpenStream(lease, chunks, head, exhausted, first)
