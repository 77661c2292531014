"""The batch lane yields to interactive traffic.

``InteractiveMeter`` (a stage at the front of the chain) notes every interactive request;
batch lines carry a marker and are not counted. Before a line starts, the runner asks the
``Lane`` for a turn. While interactive traffic is present (a request in flight, or one
started within the last ``quiet_ms``), at most ``busy_concurrency`` batch lines are in
flight; the batch speeds up to its full concurrency only after interactive traffic has been
quiet for ``quiet_ms``. A quiet window rather than the instantaneous in-flight count, because
under steady load the count flickers to zero between requests and each flicker would release
a burst of batch lines just before the next interactive request arrives. With
``busy_concurrency >= 1`` a batch never starves.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from portico.pipeline import ChunkStream, Next, Reply, RequestContext

BATCH_LINE = "portico.batch.line"  # ctx.state marker of a batch line


class Lane:
    def __init__(self, *, busy_concurrency: int, quiet_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.busy_concurrency = max(1, busy_concurrency)
        self.quiet_s = quiet_s
        self.clock = clock
        self.interactive = 0
        self.batch = 0
        self._last_interactive = float("-inf")
        self._waiters: deque[asyncio.Future[None]] = deque()

    def busy(self) -> bool:
        return self.interactive > 0 or self.clock() - self._last_interactive < self.quiet_s

    def enter_interactive(self) -> None:
        self.interactive += 1
        self._last_interactive = self.clock()

    def leave_interactive(self) -> None:
        self.interactive = max(0, self.interactive - 1)
        self._last_interactive = self.clock()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        while self.busy() and self.batch >= self.busy_concurrency:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                # woken when a batch line ends; else re-checked when the quiet window may be over
                await asyncio.wait_for(waiter, self.quiet_s)
            except TimeoutError:
                pass
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
        self.batch += 1
        try:
            yield
        finally:
            self.batch -= 1
            while self._waiters:  # one slot freed: one waiter re-checks
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    break


class InteractiveMeter:
    """Outermost stage: notes interactive requests in flight (streams until they close)."""

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
