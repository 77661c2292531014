"""OpenAI-compatible chat completions over HTTP (OpenAI, vLLM, Ollama, llama.cpp server, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import aiohttp
import orjson
from pydantic import ValidationError

from portico.errors import UpstreamError
from portico.model_settings import ModelSettings
from portico.providers.http import HttpClient, decode_json
from portico.types import ChatChunk, ChatRequest, ChatResponse

_NAME = "openai"


class OpenAIProvider:
    """Speaks ``POST {base_url}/chat/completions``; ``session`` injects the HTTP client."""

    def __init__(self, settings: ModelSettings, session: aiohttp.ClientSession | None = None) -> None:
        assert settings.base_url is not None
        self.settings = settings
        self._http = HttpClient(settings, session, provider=_NAME)
        self._url = settings.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json", **settings.headers}
        if settings.api_key is not None:
            headers["Authorization"] = "Bearer " + settings.api_key.get_secret_value()
        self._headers = headers

    def _body(self, req: ChatRequest, model: str, *, stream: bool) -> bytes:
        body: dict[str, Any] = req.upstream_body(model)
        body["stream"] = stream
        if stream:
            # Always ask for usage so cost is known; the server strips it if the client did not ask.
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        return orjson.dumps(body)

    async def chat(self, req: ChatRequest, model: str) -> ChatResponse:
        raw = await self._http.post(self._url, self._body(req, model, stream=False), self._headers)
        try:
            return ChatResponse.model_validate(decode_json(raw, _NAME))
        except ValidationError:
            raise UpstreamError(
                f"{_NAME} upstream sent a body that is not a chat completion.", code="upstream_malformed"
            ) from None

    async def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        events = self._http.events(self._url, self._body(req, model, stream=True), self._headers)
        async with aclosing(events):
            async for _event, data in events:
                if data == b"[DONE]":
                    return
                yield self._chunk(decode_json(data, _NAME))
        raise UpstreamError(f"{_NAME} upstream ended the stream without [DONE].", code="stream_truncated")

    @staticmethod
    def _chunk(payload: object) -> ChatChunk:
        if isinstance(payload, dict) and "error" in payload:
            err = payload["error"] if isinstance(payload["error"], dict) else {}
            raise UpstreamError(f"{_NAME} upstream stream error: {err.get('message', 'unknown')}")
        try:
            return ChatChunk.model_validate(payload)
        except ValidationError:
            raise UpstreamError(f"{_NAME} upstream sent a malformed stream chunk.", code="upstream_malformed") from None

    async def aclose(self) -> None:
        await self._http.aclose()
