"""OpenAI-compatible chat completions over HTTP (OpenAI, vLLM, Ollama, llama.cpp server, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
from pydantic import ValidationError

from portico.config import ModelSettings
from portico.errors import PorticoError, UpstreamError
from portico.providers.http import HttpClient, decode_json, map_transport_error, raise_for_status
from portico.providers.sse import sse_events
from portico.types import ChatChunk, ChatRequest, ChatResponse

_NAME = "openai"


class OpenAIProvider:
    """Speaks ``POST {base_url}/chat/completions``; ``session`` injects the HTTP client."""

    def __init__(self, settings: ModelSettings, session: aiohttp.ClientSession | None = None) -> None:
        assert settings.base_url is not None
        self.settings = settings
        self._http = HttpClient(settings, session)
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
        try:
            async with self._http.session.post(
                self._url,
                data=self._body(req, model, stream=False),
                headers=self._headers,
                timeout=self._http.timeout(stream=False),
            ) as resp:
                await raise_for_status(resp, _NAME)
                raw = await resp.read()
        except PorticoError:
            raise
        except Exception as exc:
            raise map_transport_error(exc, _NAME) from exc
        data = decode_json(raw, _NAME)
        try:
            return ChatResponse.model_validate(data)
        except ValidationError:
            raise UpstreamError(
                f"{_NAME} upstream sent a body that is not a chat completion.", code="upstream_malformed"
            ) from None

    async def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        t = self.settings.timeout
        try:
            async with self._http.session.post(
                self._url,
                data=self._body(req, model, stream=True),
                headers=self._headers,
                timeout=self._http.timeout(stream=True),
            ) as resp:
                await raise_for_status(resp, _NAME)
                done = False
                async for _event, data in sse_events(resp, first_timeout=t.first_token, idle_timeout=t.inter_token):
                    if data == b"[DONE]":
                        done = True
                        break
                    payload = decode_json(data, _NAME)
                    if isinstance(payload, dict) and "error" in payload:
                        err = payload["error"] if isinstance(payload["error"], dict) else {}
                        raise UpstreamError(f"{_NAME} upstream stream error: {err.get('message', 'unknown')}")
                    try:
                        yield ChatChunk.model_validate(payload)
                    except ValidationError:
                        raise UpstreamError(
                            f"{_NAME} upstream sent a malformed stream chunk.", code="upstream_malformed"
                        ) from None
                if not done:
                    raise UpstreamError(f"{_NAME} upstream ended the stream without [DONE].", code="stream_truncated")
        except PorticoError:
            raise
        except Exception as exc:
            raise map_transport_error(exc, _NAME) from exc

    async def aclose(self) -> None:
        await self._http.aclose()
