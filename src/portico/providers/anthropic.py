"""Anthropic Messages API provider: OpenAI shape in, OpenAI shape out (see anthropic_wire)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import aiohttp
import orjson

from portico.errors import UpstreamError, UpstreamStatus
from portico.model_settings import ModelSettings
from portico.providers.anthropic_wire import StreamTranslator, from_anthropic, to_anthropic
from portico.providers.http import HttpClient, decode_json
from portico.types import ChatChunk, ChatRequest, ChatResponse

_NAME = "anthropic"
API_VERSION = "2023-06-01"


class AnthropicProvider:
    def __init__(self, settings: ModelSettings, session: aiohttp.ClientSession | None = None) -> None:
        self.settings = settings
        self._http = HttpClient(settings, session, provider=_NAME)
        base = (settings.base_url or "https://api.anthropic.com").rstrip("/")
        self._url = base + ("/messages" if base.endswith("/v1") else "/v1/messages")
        headers = {"Content-Type": "application/json", "anthropic-version": API_VERSION, **settings.headers}
        if settings.api_key is not None:
            headers["x-api-key"] = settings.api_key.get_secret_value()
        self._headers = headers

    async def chat(self, req: ChatRequest, model: str) -> ChatResponse:
        raw = await self._http.post(self._url, orjson.dumps(to_anthropic(req, model, stream=False)), self._headers)
        data = decode_json(raw, _NAME)
        if not isinstance(data, dict) or data.get("type") != "message":
            raise UpstreamError(f"{_NAME} upstream sent a body that is not a message.", code="upstream_malformed")
        return from_anthropic(data, model)

    async def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        translator = StreamTranslator(model)
        events = self._http.events(self._url, orjson.dumps(to_anthropic(req, model, stream=True)), self._headers)
        async with aclosing(events):
            async for event, data in events:
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

    async def aclose(self) -> None:
        await self._http.aclose()
