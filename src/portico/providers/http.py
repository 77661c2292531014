"""Shared aiohttp plumbing for HTTP providers: one pooled session per deployment, error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp
import orjson

from portico.errors import PorticoError, UpstreamError, UpstreamStatus, UpstreamTimeout, UpstreamUnavailable
from portico.model_settings import ModelSettings
from portico.observability.propagation import upstream_headers
from portico.providers.sse import sse_events


class HttpClient:
    """A lazily created, pooled aiohttp session; pass ``session`` to inject your own transport.
    Every failure leaves it as a Portico error, named after ``provider``."""

    def __init__(
        self, settings: ModelSettings, session: aiohttp.ClientSession | None = None, *, provider: str = "upstream"
    ) -> None:
        self.settings = settings
        self.provider = provider
        self._session = session
        self._owned = session is None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.settings.max_connections, ttl_dns_cache=300, keepalive_timeout=30
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                json_serialize=lambda o: orjson.dumps(o).decode(),
                skip_auto_headers=("User-Agent",),
            )
            self._owned = True
        return self._session

    def timeout(self, *, stream: bool) -> aiohttp.ClientTimeout:
        t = self.settings.timeout
        # A stream's stalls are policed per chunk by the SSE reader; the total still applies.
        return aiohttp.ClientTimeout(total=t.total, sock_connect=t.connect, sock_read=None if stream else t.first_token)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> bytes:
        """POST and return the body of a successful answer."""
        try:
            headers = upstream_headers(headers)
            async with self.session.post(url, data=body, headers=headers, timeout=self.timeout(stream=False)) as resp:
                await raise_for_status(resp, self.provider)
                return await resp.read()
        except PorticoError:
            raise
        except Exception as exc:
            raise map_transport_error(exc, self.provider) from exc

    async def events(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> AsyncGenerator[tuple[str | None, bytes], None]:
        """POST and yield the answer's server-sent events, policing first-byte and stall timeouts."""
        t = self.settings.timeout
        headers = upstream_headers(headers)
        try:
            async with self.session.post(url, data=body, headers=headers, timeout=self.timeout(stream=True)) as resp:
                await raise_for_status(resp, self.provider)
                async for event in sse_events(resp, first_timeout=t.first_token, idle_timeout=t.inter_token):
                    yield event
        except PorticoError:
            raise
        except Exception as exc:
            raise map_transport_error(exc, self.provider) from exc

    async def aclose(self) -> None:
        if self._session is not None and self._owned and not self._session.closed:
            await self._session.close()


def parse_retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def raise_for_status(resp: aiohttp.ClientResponse, provider: str) -> None:
    """Map an upstream error status to UpstreamStatus, keeping its message when it sent one."""
    if resp.status < 400:
        return
    raw = await resp.read()
    message, code, param, etype = f"{provider} upstream returned HTTP {resp.status}", None, None, None
    try:
        body = orjson.loads(raw)
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            message = f"{provider} upstream: {err.get('message') or message}"
            code = err.get("code") if isinstance(err.get("code"), str) else None
            param = err.get("param") if isinstance(err.get("param"), str) else None
            etype = err.get("type") if isinstance(err.get("type"), str) else None
    except orjson.JSONDecodeError:
        pass
    raise UpstreamStatus(
        message,
        upstream_status=resp.status,
        code=code,
        param=param,
        retry_after=parse_retry_after(resp.headers),
        error_type=etype if 400 <= resp.status < 500 else None,
    )


def map_transport_error(exc: BaseException, provider: str) -> PorticoError:
    """Turn a client-side exception into the matching Portico error (call inside ``except``)."""
    if isinstance(exc, PorticoError):
        return exc
    if isinstance(exc, asyncio.TimeoutError | TimeoutError | aiohttp.ServerTimeoutError):
        return UpstreamTimeout(f"{provider} upstream timed out.")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamUnavailable(f"{provider} upstream refused the connection ({exc.host}:{exc.port}).")
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError | ConnectionError):
        return UpstreamUnavailable(f"{provider} upstream closed the connection.")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return UpstreamUnavailable(f"{provider} upstream cut the response body.")
    if isinstance(exc, aiohttp.ClientError):
        return UpstreamError(f"{provider} upstream failed: {exc.__class__.__name__}.")
    return UpstreamError(f"{provider} upstream failed: {exc.__class__.__name__}.")


def decode_json(raw: bytes, provider: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"{provider} upstream sent a malformed JSON body.", code="upstream_malformed") from None
