"""Streams fail over until their first meaningful chunk, and never after it."""

from __future__ import annotations

from typing import Any

import pytest

from portico.errors import PorticoError, UpstreamTimeout
from portico.pipeline import ChunkStream, RequestContext
from portico.testing import Behaviour, FakeUpstream
from portico.types import ChatChunk

from .conftest import REPLY, context, openai, settings

PRIORITY = {"defaults": {"routing_strategy": "priority"}}


def two(ups: list[FakeUpstream]) -> list[dict[str, Any]]:
    return [openai("m", ups[0].base_url, priority=0), openai("m", ups[1].base_url, priority=1)]


async def drain(reply: object, ctx: RequestContext) -> tuple[list[ChatChunk], BaseException | None]:
    assert isinstance(reply, ChunkStream)
    got: list[ChatChunk] = []
    error: BaseException | None = None
    try:
        async for chunk in reply:
            got.append(chunk)
    except PorticoError as exc:
        error = exc
    await reply.close(ctx, error)
    return got, error


def text(chunks: list[ChatChunk]) -> str:
    return "".join(c.text for c in chunks)


@pytest.mark.parametrize(
    "fault",
    [
        Behaviour(kind="cut_stream", after_chunks=1),  # the role chunk, then the connection drops
        Behaviour(kind="error_event", after_chunks=1),
        Behaviour(kind="status", status=503),
        Behaviour(kind="status", status=429, retry_after=5),
        Behaviour(kind="reset"),
        Behaviour(kind="malformed"),
        Behaviour(delay=0.8),  # no first token within 0.4 s
        Behaviour(kind="stall_stream", after_chunks=1, delay=0.0),
    ],
    ids=["cut-after-role", "error-event", "503", "429", "reset", "malformed", "slow-first-token", "stall-early"],
)
async def test_failure_before_the_first_token_fails_over(
    ups: list[FakeUpstream], make_caller: Any, fault: Behaviour
) -> None:
    ups[0].push(fault)
    caller = make_caller(settings(two(ups), PRIORITY))
    ctx = context(stream=True)
    chunks, error = await drain(await caller(ctx), ctx)
    assert error is None
    assert text(chunks) == REPLY
    assert ctx.attempts == 2 and ctx.deployment == "m#1"
    assert ctx.usage is not None and ctx.usage.completion_tokens == len(REPLY.split())
    assert ctx.first_token_seconds is not None


async def test_failure_after_the_first_token_is_not_retried_and_usage_is_partial(
    ups: list[FakeUpstream], make_caller: Any
) -> None:
    ups[0].push(Behaviour(kind="cut_stream", after_chunks=3))
    caller = make_caller(settings(two(ups), PRIORITY))
    ctx = context(stream=True)
    chunks, error = await drain(await caller(ctx), ctx)
    assert isinstance(error, PorticoError) and error.retryable  # retryable, yet not retried: bytes went out
    assert 0 < len(text(chunks)) < len(REPLY)
    assert ctx.attempts == 1 and not ups[1].requests
    assert ctx.usage is not None and 0 < ctx.usage.completion_tokens < len(REPLY.split())
    assert ctx.usage.prompt_tokens > 0


async def test_stall_mid_stream_times_out(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].push(Behaviour(kind="stall_stream", after_chunks=3))
    caller = make_caller(settings(two(ups), PRIORITY))
    ctx = context(stream=True)
    chunks, error = await drain(await caller(ctx), ctx)
    assert isinstance(error, UpstreamTimeout)
    assert text(chunks) and ctx.attempts == 1
    assert ctx.usage is not None and ctx.usage.completion_tokens > 0


async def test_stream_falls_back_to_another_model(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].set_default(Behaviour(kind="status", status=503))
    models = [openai("m", ups[0].base_url), openai("n", ups[1].base_url)]
    caller = make_caller(settings(models, {"models": {"m": {"fallbacks": ["n"], "retry": {"max_attempts": 2}}}}))
    ctx = context(stream=True)
    chunks, error = await drain(await caller(ctx), ctx)
    assert error is None and text(chunks) == REPLY
    assert ctx.model == "n" and ctx.route_reason == "fallback from m after 503"
    assert ctx.attempts == 3


async def test_hedged_stream_takes_the_fast_deployment_and_cancels_the_slow_one(
    ups: list[FakeUpstream], make_caller: Any
) -> None:
    ups[0].push(Behaviour(delay=0.3))
    res = {"defaults": {"routing_strategy": "priority", "hedge": {"enabled": True, "after": 0.05}}}
    caller = make_caller(settings(two(ups), res))
    ctx = context(stream=True)
    chunks, error = await drain(await caller(ctx), ctx)
    assert error is None and text(chunks) == REPLY
    assert ctx.deployment == "m#1" and ctx.attempts == 2
    assert ctx.response_headers.get("x-portico-hedged") == "1"
    primary = caller.plans["m"].group[0]
    assert primary.in_flight == 0 and caller.plans["m"].group[1].in_flight == 0


async def test_hedged_call_not_needed_when_the_first_is_fast(ups: list[FakeUpstream], make_caller: Any) -> None:
    res = {"defaults": {"routing_strategy": "priority", "hedge": {"enabled": True, "after": 2.0}}}
    caller = make_caller(settings(two(ups), res))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.attempts == 1 and not ups[1].requests and "x-portico-hedged" not in ctx.response_headers


async def test_hedged_chat_first_answer_wins(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].push(Behaviour(delay=0.3))
    res = {"defaults": {"routing_strategy": "priority", "hedge": {"enabled": True, "after": 0.05}}}
    caller = make_caller(settings(two(ups), res))
    ctx = context()
    assert (await caller(ctx)).text == REPLY
    assert ctx.deployment == "m#1" and ctx.attempts == 2


def anthropic_pair(ups: list[FakeUpstream]) -> list[dict[str, Any]]:
    fast = {"connect": 1.0, "first_token": 0.4, "inter_token": 0.4, "total": 5.0}
    return [
        {"name": "m", "provider": "anthropic", "base_url": up.url, "priority": i, "timeout": fast}
        for i, up in enumerate(ups[:2])
    ]


@pytest.mark.parametrize(
    "fault",
    [
        Behaviour(kind="status", status=529),
        Behaviour(kind="error_event", after_chunks=1),  # overloaded_error right after message_start
        Behaviour(kind="cut_stream", after_chunks=2),
    ],
    ids=["529", "error-event", "cut-before-text"],
)
async def test_anthropic_stream_fails_over_before_the_first_token(
    ups: list[FakeUpstream], make_caller: Any, fault: Behaviour
) -> None:
    ups[0].push(fault)
    caller = make_caller(settings(anthropic_pair(ups), PRIORITY))
    ctx = context(stream=True)
    chunks, error = await drain(await caller(ctx), ctx)
    assert error is None and text(chunks) == REPLY
    assert ctx.attempts == 2 and ctx.deployment == "m#1"


async def test_anthropic_error_event_after_text_is_not_retried(ups: list[FakeUpstream], make_caller: Any) -> None:
    ups[0].push(Behaviour(kind="error_event", after_chunks=5))
    caller = make_caller(settings(anthropic_pair(ups), PRIORITY))
    ctx = context(stream=True)
    chunks, error = await drain(await caller(ctx), ctx)
    assert isinstance(error, PorticoError) and text(chunks)
    assert ctx.attempts == 1 and not ups[1].requests
