"""Anthropic Messages API provider: OpenAI shape in, OpenAI shape out (see anthropic_wire)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import orjson

from portico.config import ModelSettings
from portico.errors import PorticoError, UpstreamError, UpstreamStatus
from portico.providers.anthropic_wire import StreamTranslator, from_anthropic, to_anthropic
from portico.providers.http import HttpClient, decode_json, map_transport_error, raise_for_status
from portico.providers.sse import sse_events
from portico.types import ChatChunk, ChatRequest, ChatResponse

_NAME = "anthropic"
API_VERSION = "2023-06-01"


class AnthropicProvider:
    def __init__(self, settings: ModelSettings, session: aiohttp.ClientSession | None = None) -> None:
        self.settings = settings
        self._http = HttpClient(settings, session)
        base = (settings.base_url or "https://api.anthropic.com").rstrip("/")
        self._url = base + ("/messages" if base.endswith("/v1") else "/v1/messages")
        headers = {"Content-Type": "application/json", "anthropic-version": API_VERSION, **settings.headers}
        if settings.api_key is not None:
            headers["x-api-key"] = settings.api_key.get_secret_value()
        self._headers = headers

    async def chat(self, req: ChatRequest, model: str) -> ChatResponse:
        body = orjson.dumps(to_anthropic(req, model, stream=False))
        try:
            async with self._http.session.post(
                self._url, data=body, headers=self._headers, timeout=self._http.timeout(stream=False)
            ) as resp:
                await raise_for_status(resp, _NAME)
                raw = await resp.read()
        except PorticoError:
            raise
        except Exception as exc:
            raise map_transport_error(exc, _NAME) from exc
        data = decode_json(raw, _NAME)
        if not isinstance(data, dict) or data.get("type") != "message":
            raise UpstreamError(f"{_NAME} upstream sent a body that is not a message.", code="upstream_malformed")
        return from_anthropic(data, model)

    async def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        body = orjson.dumps(to_anthropic(req, model, stream=True))
        t = self.settings.timeout
        translator = StreamTranslator(model)
        try:
            async with self._http.session.post(
                self._url, data=body, headers=self._headers, timeout=self._http.timeout(stream=True)
            ) as resp:
                await raise_for_status(resp, _NAME)
                async for event, data in sse_events(resp, first_timeout=t.first_token, idle_timeout=t.inter_token):
                    payload = decode_json(data, _NAME)
                    if not isinstance(payload, dict):
                        continue
                    if payload.get("type") == "error" or event == "error":
                        err = payload.get("error") or {}
                        status = 529 if err.get("type") == "overloaded_error" else 502
                        raise UpstreamStatus(
                            f"{_NAME} upstream stream error: {err.get('message', 'unknown')}", upstream_status=status
                        )
                    for chunk in translator.feed(event or "", payload):
                        yield chunk
                    if translator.stopped:
                        return
                raise UpstreamError(f"{_NAME} upstream ended the stream without message_stop.", code="stream_truncated")
        except PorticoError:
            raise
        except Exception as exc:
            raise map_transport_error(exc, _NAME) from exc

    async def aclose(self) -> None:
        await self._http.aclose()
