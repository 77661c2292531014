"""Cancelling a run (what Ctrl-C does under asyncio.run) keeps the finished rows and stops the rest,
even when a layer below absorbs the cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx

from portico.evals.client import ChatClient
from portico.evals.dataset import Assertion, EvalCase
from portico.evals.records import RunState, Target
from portico.evals.runner import EvalRunner
from portico.evals.scoring import ScorerSet


class BlockingUpstream:
    """Answers ``n`` requests, then parks the next ones until cancelled; ``absorb`` makes a parked
    request swallow its cancellation and answer anyway (like a layer that catches BaseException)."""

    def __init__(self, n: int, *, absorb: bool) -> None:
        self.n, self.absorb, self.seen = n, absorb, 0
        self.parked = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen > self.n:
            self.parked.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if not self.absorb:
                    raise
        body = json.loads(request.content)
        return httpx.Response(200, json={"model": body["model"], "choices": [{"message": {"content": "ok"}}]})


def cases(n: int) -> list[EvalCase]:
    return [
        EvalCase(id=str(i), line=i + 1, messages=({"role": "user", "content": "hi"},), expected=("ok",))
        for i in range(n)
    ]


async def run_and_cancel(absorb: bool) -> tuple[RunState, BlockingUpstream]:
    upstream = BlockingUpstream(3, absorb=absorb)
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream), base_url="http://t") as http:
        runner = EvalRunner(ChatClient(http), ScorerSet(), default_assertion=Assertion("contains"), concurrency=2)
        state = RunState(dataset="d", targets=(Target("m"),), planned_per_target=50)
        task = asyncio.create_task(runner.run(cases(50), state))
        await upstream.parked.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return state, upstream


async def test_cancel_keeps_finished_rows() -> None:
    state, _upstream = await run_and_cancel(absorb=False)
    assert state.interrupted and state.done == 3


async def test_cancel_stops_even_if_a_layer_absorbs_it() -> None:
    state, upstream = await run_and_cancel(absorb=True)
    assert state.interrupted
    assert state.done <= 4 and upstream.seen <= 5  # not the remaining 45 rows


async def test_complete_run_scores_every_row_for_every_target() -> None:
    upstream = BlockingUpstream(1000, absorb=False)
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream), base_url="http://t") as http:
        runner = EvalRunner(ChatClient(http), ScorerSet(), default_assertion=Assertion("contains"), concurrency=3)
        state = RunState(dataset="d", targets=(Target("a"), Target("b", "route")), planned_per_target=7)
        await runner.run(cases(7), state)
    assert not state.interrupted
    assert [len(state.rows("a")), len(state.rows("b"))] == [7, 7]
    assert all(r.passed for r in state.rows("b"))


async def test_cancel_lands_even_when_replies_never_suspend() -> None:
    """An in-process echo model answers without ever suspending; Ctrl-C must still stop the run."""
    box: dict[str, asyncio.Task[RunState]] = {}
    seen = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        if seen == 5:
            box["task"].cancel()  # what asyncio.run's SIGINT handler does
        return httpx.Response(200, json={"model": "m", "choices": [{"message": {"content": "ok"}}]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://t") as http:
        runner = EvalRunner(ChatClient(http), ScorerSet(), default_assertion=Assertion("contains"), concurrency=1)
        state = RunState(dataset="d", targets=(Target("m"),), planned_per_target=500)
        box["task"] = asyncio.create_task(runner.run(cases(500), state))
        with contextlib.suppress(asyncio.CancelledError):
            await box["task"]
    assert state.interrupted and state.done <= 6
