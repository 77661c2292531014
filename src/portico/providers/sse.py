"""Server-sent events: reading an upstream's ``data:`` lines with first-byte and stall timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp

from portico.errors import UpstreamTimeout, UpstreamUnavailable


async def sse_events(
    resp: aiohttp.ClientResponse, *, first_timeout: float, idle_timeout: float
) -> AsyncIterator[tuple[str | None, bytes]]:
    """Yield ``(event, data)`` per SSE event. Raises UpstreamTimeout on a stall and
    UpstreamUnavailable when the connection breaks before the stream says it is done."""
    event: str | None = None
    data: list[bytes] = []
    timeout = first_timeout
    while True:
        try:
            async with asyncio.timeout(timeout):
                line = await resp.content.readline()
        except TimeoutError:
            what = "first byte" if timeout == first_timeout and not data else "next chunk"
            raise UpstreamTimeout(f"Upstream stream stalled: no {what} within {timeout:g}s.") from None
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, ConnectionError) as exc:
            raise UpstreamUnavailable(f"Upstream connection broke mid-stream: {exc.__class__.__name__}.") from exc
        timeout = idle_timeout
        if not line:  # EOF
            if data:
                yield event, b"\n".join(data)
            return
        line = line.rstrip(b"\r\n")
        if not line:
            if data:
                yield event, b"\n".join(data)
            event, data = None, []
            continue
        if line.startswith(b"data:"):
            data.append(line[5:].lstrip(b" "))
        elif line.startswith(b"event:"):
            event = line[6:].strip().decode("utf-8", "replace")
