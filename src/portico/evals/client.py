"""One chat request through the gateway (HTTP or in-process ASGI), measured.

The client speaks the OpenAI wire format over an injected ``httpx.AsyncClient``, so the
same code measures a remote gateway, the in-process pipeline, or a test double.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

COST_HEADER = "x-portico-cost-usd"
CACHE_HEADER = "x-portico-cache"
ROUTE_HEADER = "x-portico-route"


@dataclass(frozen=True)
class Outcome:
    """What one request produced and what it cost in time, tokens and money."""

    text: str
    latency_ms: float
    error: str | None = None
    status: int | None = None
    ttft_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    header_cost_usd: float | None = None
    cache: str | None = None
    route: str | None = None
    served_model: str | None = None


@dataclass(frozen=True)
class RequestOptions:
    temperature: float | None = 0.0
    max_tokens: int | None = None
    stream: bool = False
    timeout_s: float = 120.0


class ChatClient:
    def __init__(self, http: httpx.AsyncClient, *, options: RequestOptions | None = None) -> None:
        self._http = http
        self._options = options or RequestOptions()

    def _body(self, messages: Sequence[Mapping[str, Any]], model: str, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": list(messages)}
        opts = self._options
        if opts.temperature is not None:
            body["temperature"] = opts.temperature
        if opts.max_tokens is not None:
            body["max_tokens"] = opts.max_tokens
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def complete(self, messages: Sequence[Mapping[str, Any]], model: str) -> str:
        """Plain completion text (for judges); raises on failure."""
        out = await self._call(messages, model, stream=False)
        if out.error:
            raise RuntimeError(f"judge model {model!r} failed: {out.error}")
        return out.text

    async def send(self, messages: Sequence[Mapping[str, Any]], model: str) -> Outcome:
        return await self._call(messages, model, stream=self._options.stream)

    async def _call(self, messages: Sequence[Mapping[str, Any]], model: str, *, stream: bool) -> Outcome:
        body = self._body(messages, model, stream)
        start = time.perf_counter()
        try:
            if stream:
                return await self._stream(body, start)
            resp = await self._http.post("/v1/chat/completions", json=body, timeout=self._options.timeout_s)
            elapsed = (time.perf_counter() - start) * 1000
            return _parse_plain(resp, elapsed)
        except httpx.HTTPError as exc:
            elapsed = (time.perf_counter() - start) * 1000
            return Outcome(text="", latency_ms=elapsed, error=f"{type(exc).__name__}: {exc}"[:300])

    async def _stream(self, body: dict[str, Any], start: float) -> Outcome:
        parts: list[str] = []
        ttft: float | None = None
        usage: Mapping[str, Any] = {}
        served: str | None = None
        error: str | None = None
        async with self._http.stream(
            "POST", "/v1/chat/completions", json=body, timeout=self._options.timeout_s
        ) as resp:
            headers = resp.headers
            if resp.status_code >= 400:
                await resp.aread()
                elapsed = (time.perf_counter() - start) * 1000
                return _error_outcome(resp, elapsed)
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    continue
                if "error" in chunk:
                    error = _error_text(chunk)
                    break
                served = chunk.get("model", served)
                for choice in chunk.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        if ttft is None:
                            ttft = (time.perf_counter() - start) * 1000
                        parts.append(piece)
                if chunk.get("usage"):
                    usage = chunk["usage"]
        elapsed = (time.perf_counter() - start) * 1000
        return Outcome(
            text="".join(parts),
            latency_ms=elapsed,
            error=error,
            status=resp.status_code,
            ttft_ms=ttft,
            prompt_tokens=_int(usage.get("prompt_tokens")),
            completion_tokens=_int(usage.get("completion_tokens")),
            header_cost_usd=_float(headers.get(COST_HEADER)),
            cache=headers.get(CACHE_HEADER),
            route=headers.get(ROUTE_HEADER),
            served_model=served,
        )


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _float(v: str | None) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        return None


def _error_text(payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        err = payload["error"]
        return str(err.get("message") or err.get("type") or err)[:300]
    return str(payload)[:300]


def _error_outcome(resp: httpx.Response, elapsed: float) -> Outcome:
    try:
        detail = _error_text(resp.json())
    except (json.JSONDecodeError, UnicodeDecodeError):
        detail = resp.text[:300]
    return Outcome(
        text="",
        latency_ms=elapsed,
        error=f"HTTP {resp.status_code}: {detail}",
        status=resp.status_code,
        header_cost_usd=_float(resp.headers.get(COST_HEADER)),
        cache=resp.headers.get(CACHE_HEADER),
        route=resp.headers.get(ROUTE_HEADER),
    )


def _parse_plain(resp: httpx.Response, elapsed: float) -> Outcome:
    if resp.status_code >= 400:
        return _error_outcome(resp, elapsed)
    try:
        payload = resp.json()
        choices = payload.get("choices") or []
        text = (choices[0].get("message") or {}).get("content") or "" if choices else ""
        usage = payload.get("usage") or {}
    except (json.JSONDecodeError, AttributeError, IndexError) as exc:
        return Outcome(text="", latency_ms=elapsed, error=f"bad response body: {exc}", status=resp.status_code)
    return Outcome(
        text=str(text),
        latency_ms=elapsed,
        status=resp.status_code,
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=_int(usage.get("completion_tokens")),
        header_cost_usd=_float(resp.headers.get(COST_HEADER)),
        cache=resp.headers.get(CACHE_HEADER),
        route=resp.headers.get(ROUTE_HEADER),
        served_model=payload.get("model"),
    )
