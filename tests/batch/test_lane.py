"""Batch lines yield to interactive requests, but never starve."""

from __future__ import annotations

import asyncio

from portico.batch.lane import BATCH_LINE, InteractiveMeter, Lane
from portico.pipeline import Pipeline, RequestContext
from portico.types import ChatMessage, ChatRequest, ChatResponse, Choice, ResponseMessage


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_only_busy_concurrency_lines_run_while_interactive_traffic_is_present() -> None:
    clock = Clock()
    lane = Lane(busy_concurrency=1, quiet_s=30, clock=clock)
    lane.enter_interactive()
    async with lane.turn():  # one line may run beside interactive traffic
        waiting = asyncio.ensure_future(_take(lane))
        done, _ = await asyncio.wait({waiting}, timeout=0.05)
        assert not done  # the second waits
        lane.leave_interactive()
        clock.now += 31  # interactive traffic has been quiet for the whole window
    await asyncio.wait_for(waiting, 5)  # the slot freed and the window passed: it runs


async def test_a_slot_freed_beside_interactive_traffic_goes_to_one_waiter() -> None:
    lane = Lane(busy_concurrency=1, quiet_s=30, clock=Clock())
    lane.enter_interactive()
    first = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with lane.turn():
            first.set()
            await release.wait()

    holder = asyncio.ensure_future(hold())
    await first.wait()
    waiters = [asyncio.ensure_future(_take(lane)) for _ in range(3)]
    done, _ = await asyncio.wait(waiters, timeout=0.05)
    assert not done
    release.set()
    await holder
    await asyncio.wait_for(asyncio.gather(*waiters), 5)  # one at a time, never more than one in flight
    assert lane.batch == 0


async def test_full_speed_when_no_interactive_traffic() -> None:
    lane = Lane(busy_concurrency=1, quiet_s=30, clock=Clock())
    async with lane.turn(), lane.turn(), lane.turn():
        assert lane.batch == 3


async def test_meter_counts_interactive_requests_only() -> None:
    lane = Lane(busy_concurrency=1, quiet_s=1)
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
