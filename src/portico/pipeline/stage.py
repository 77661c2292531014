"""The Stage seam: one class per concern, composed into an onion.

A stage is ``async __call__(ctx, call_next) -> Reply``. Pre-processing runs before
``await call_next(ctx)``, post-processing after it, so post-processing runs in reverse
order and also after an early answer from a later stage (a cache hit, a guard block).
A stage answers early by returning a Reply without calling ``call_next``; it refuses by
raising a :class:`~portico.errors.PorticoError`.

A streamed Reply is a :class:`ChunkStream`: stages that need to see the chunks wrap it
(``ChunkStream.wrap``) instead of consuming it, and register ``on_close`` callbacks that
run exactly once when the stream ends, fails or the client goes away.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

from portico.pipeline.context import RequestContext
from portico.types import ChatChunk, ChatResponse

CloseHook = Callable[["RequestContext", BaseException | None], Awaitable[None]]


class ChunkStream:
    """An async stream of chunks plus hooks that run once when it is finished."""

    def __init__(self, chunks: AsyncIterator[ChatChunk]) -> None:
        self._chunks = chunks
        self._on_close: list[CloseHook] = []

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._chunks

    def wrap(self, fn: Callable[[AsyncIterator[ChatChunk]], AsyncIterator[ChatChunk]]) -> ChunkStream:
        """Replace the chunk iterator by ``fn(old)``; hooks are kept."""
        self._chunks = fn(self._chunks)
        return self

    def on_close(self, hook: CloseHook) -> None:
        """Run ``hook(ctx, error)`` when the stream ends; later registrations run first."""
        self._on_close.insert(0, hook)

    async def close(self, ctx: RequestContext, error: BaseException | None) -> None:
        hooks, self._on_close = self._on_close, []
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
        for hook in hooks:
            await hook(ctx, error)


Reply = ChatResponse | ChunkStream
Next = Callable[[RequestContext], Awaitable[Reply]]


class Stage(Protocol):
    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply: ...


class Pipeline:
    """Stages composed once at start-up around a terminal handler (the provider call)."""

    def __init__(self, stages: Sequence[Stage], terminal: Next) -> None:
        self.stages = tuple(stages)
        handler = terminal
        for stage in reversed(self.stages):
            handler = _bind(stage, handler)
        self._handler = handler

    async def __call__(self, ctx: RequestContext) -> Reply:
        return await self._handler(ctx)


def _bind(stage: Stage, call_next: Next) -> Next:
    async def run(ctx: RequestContext) -> Reply:
        return await stage(ctx, call_next)

    return run
