"""Batch lines yield to interactive requests, but never starve."""

from __future__ import annotations

import asyncio
import time

from portico.batch.lane import BATCH_LINE, InteractiveMeter, Lane
from portico.pipeline import Pipeline, RequestContext
from portico.types import ChatMessage, ChatRequest, ChatResponse, Choice, ResponseMessage


async def test_second_batch_line_waits_while_interactive_requests_run() -> None:
    lane = Lane(busy_concurrency=1, yield_max_s=30)
    lane.enter_interactive()
    async with lane.turn():  # the first line may run beside interactive traffic
        waiting = asyncio.ensure_future(_take(lane))
        done, _ = await asyncio.wait({waiting}, timeout=0.05)
        assert not done  # the second waits for interactive traffic to pause
        lane.leave_interactive()
        await asyncio.wait_for(waiting, 5)


async def test_a_waiting_line_runs_after_yield_max_under_steady_load() -> None:
    lane = Lane(busy_concurrency=0, yield_max_s=0.05)
    lane.enter_interactive()
    started = time.perf_counter()
    await asyncio.wait_for(_take(lane), 5)
    assert time.perf_counter() - started >= 0.04


async def test_meter_counts_interactive_requests_only() -> None:
    lane = Lane(busy_concurrency=1, yield_max_s=1)
    seen: list[int] = []

    async def terminal(ctx: RequestContext) -> ChatResponse:
        seen.append(lane.interactive)
        return ChatResponse(model="m", choices=[Choice(message=ResponseMessage(content="x"))])

    pipeline = Pipeline([InteractiveMeter(lane)], terminal)
    req = ChatRequest(model="m", messages=[ChatMessage(role="user", content="hi")])
    await pipeline(RequestContext(request_id="a", request=req))
    batch_ctx = RequestContext(request_id="b", request=req)
    batch_ctx.state[BATCH_LINE] = True
    await pipeline(batch_ctx)
    assert seen == [1, 0] and lane.interactive == 0


async def _take(lane: Lane) -> None:
    async with lane.turn():
        pass
