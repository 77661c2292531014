"""Run every case against every target with bounded concurrency, scoring replies as they arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from portico.evals.client import ChatClient, Outcome
from portico.evals.dataset import Assertion, EvalCase
from portico.evals.pricing import PriceTable, request_cost
from portico.evals.records import RowResult, RunState, Target
from portico.evals.scoring import ScorerSet

OnResult = Callable[[RowResult], None]
_DRAIN_SECONDS = 2.0


class EvalRunner:
    def __init__(
        self,
        client: ChatClient,
        scorers: ScorerSet,
        *,
        default_assertion: Assertion,
        prices: PriceTable | None = None,
        concurrency: int = 4,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self._client = client
        self._scorers = scorers
        self._default = default_assertion
        self._prices = prices or PriceTable()
        self._concurrency = concurrency

    async def run(self, cases: Sequence[EvalCase], state: RunState, on_result: OnResult | None = None) -> RunState:
        """Fill ``state`` as rows complete. On cancellation, finished rows stay in ``state``."""
        queue: asyncio.Queue[tuple[EvalCase, Target]] = asyncio.Queue()
        # Interleave targets per case so side-by-side figures see the same load over time.
        for case in cases:
            for target in state.targets:
                queue.put_nowait((case, target))

        if queue.empty():
            return state
        stop = asyncio.Event()

        async def worker() -> None:
            while not stop.is_set():
                # In-process replies (echo, cache hits) may never suspend; yield so that a
                # cancellation (Ctrl-C) and the progress bar get their turn between rows.
                await asyncio.sleep(0)
                try:
                    case, target = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                row = await self.evaluate(case, target)
                if stop.is_set():
                    return
                state.add(row)
                if on_result is not None:
                    on_result(row)

        workers = [asyncio.create_task(worker()) for _ in range(min(self._concurrency, queue.qsize()))]
        try:
            # asyncio.wait, not gather: a cancelled gather waits for every child to finish, and a
            # child may be inside code that absorbs the cancellation; the stop flag ends them all.
            await asyncio.wait(workers)
        except asyncio.CancelledError:
            state.interrupted = True
            stop.set()
            for w in workers:
                w.cancel()
            await asyncio.wait(workers, timeout=_DRAIN_SECONDS)
            raise
        for w in workers:
            w.result()  # re-raise a worker's failure
        return state

    async def evaluate(self, case: EvalCase, target: Target) -> RowResult:
        out: Outcome = await self._client.send(case.messages, target.name)
        cost, source = request_cost(
            out.header_cost_usd,
            self._prices,
            (out.served_model, target.name),
            out.prompt_tokens,
            out.completion_tokens,
        )
        checks = () if out.error else tuple(await self._scorers.check(out.text, case, self._default))
        return RowResult(
            target=target.name,
            case_id=case.id,
            line=case.line,
            prompt=case.prompt,
            expected=case.expected,
            output=out.text,
            passed=bool(checks) and all(c.passed for c in checks),
            checks=checks,
            latency_ms=out.latency_ms,
            error=out.error,
            status=out.status,
            ttft_ms=out.ttft_ms,
            prompt_tokens=out.prompt_tokens,
            completion_tokens=out.completion_tokens,
            cost_usd=cost,
            cost_source=source,
            cache=out.cache,
            route=out.route,
        )
