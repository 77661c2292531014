"""The batch lane yields to interactive traffic.

``InteractiveMeter`` (a stage at the front of the chain) counts interactive requests in
flight; batch lines carry a marker and are not counted. Before a line starts, the runner
asks the ``Lane`` for a turn: while interactive requests are in flight only
``busy_concurrency`` lines may run, the others wait for a pause in interactive traffic, but
never longer than ``yield_max_ms`` (a batch must not starve under steady load).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from portico.pipeline import ChunkStream, Next, Reply, RequestContext

BATCH_LINE = "portico.batch.line"  # ctx.state marker of a batch line


class Lane:
    def __init__(self, *, busy_concurrency: int, yield_max_s: float) -> None:
        self.busy_concurrency = busy_concurrency
        self.yield_max_s = yield_max_s
        self.interactive = 0
        self.batch = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter_interactive(self) -> None:
        self.interactive += 1
        self._idle.clear()

    def leave_interactive(self) -> None:
        self.interactive -= 1
        if self.interactive <= 0:
            self.interactive = 0
            self._idle.set()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.interactive and self.batch >= self.busy_concurrency:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.yield_max_s)
        self.batch += 1
        try:
            yield
        finally:
            self.batch -= 1


class InteractiveMeter:
    """Outermost stage: counts interactive requests in flight (streams until they close)."""

    def __init__(self, lane: Lane) -> None:
        self.lane = lane

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        if ctx.state.get(BATCH_LINE):
            return await call_next(ctx)
        self.lane.enter_interactive()
        try:
            reply = await call_next(ctx)
        except BaseException:
            self.lane.leave_interactive()
            raise
        if isinstance(reply, ChunkStream):
            reply.on_close(lambda _c, _e: self._leave())
            return reply
        self.lane.leave_interactive()
        return reply

    async def _leave(self) -> None:
        self.lane.leave_interactive()
