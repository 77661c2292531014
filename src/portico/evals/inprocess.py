"""Reach the gateway pipeline in-process: the ASGI app behind ``httpx.ASGITransport``.

``httpx.ASGITransport`` does not run the app's lifespan, and Portico's app loads models and
the embedder at start-up, so :func:`lifespan` drives the ASGI lifespan protocol by hand
(what ``asgi-lifespan`` does) around the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


class StartupFailed(RuntimeError):
    pass


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Send ``lifespan.startup`` on enter and ``lifespan.shutdown`` on exit."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        await outbox.put(message)

    async def serve() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    task = asyncio.create_task(serve())
    await inbox.put({"type": "lifespan.startup"})
    reply = await _next(outbox, task)
    if reply.get("type") == "lifespan.startup.failed":
        raise StartupFailed(str(reply.get("message") or "gateway start-up failed"))
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        try:
            await _next(outbox, task)
        finally:
            if not task.done():
                task.cancel()


async def _next(outbox: asyncio.Queue[Message], task: asyncio.Task[None]) -> Message:
    getter = asyncio.ensure_future(outbox.get())
    done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()
    exc = task.exception()
    raise StartupFailed(f"the app ended its lifespan early: {exc!r}")


@asynccontextmanager
async def inprocess_client(app: ASGIApp, headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests go straight into ``app`` (started and stopped around it)."""
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portico.inprocess", headers=headers) as c:
            yield c
