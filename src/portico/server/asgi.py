"""Minimal ASGI helpers for the hot path: read a bounded body, send JSON, send errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import orjson

from portico.errors import InvalidRequest, PayloadTooLarge, PorticoError, RequestTimeout

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_TYPE = (b"content-type", b"application/json")
BODY_TIMEOUT = 30.0  # seconds; server.body_timeout


def header_map(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


async def read_body(
    receive: Receive, headers: Mapping[str, str], limit: int, *, timeout: float = BODY_TIMEOUT
) -> bytes:
    """The whole body, at most ``limit`` bytes (413), within ``timeout`` seconds (408: a client
    trickling its body must not hold a connection and a task for ever)."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is {declared} bytes; the limit is {limit} bytes.")
    task = asyncio.current_task()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        if task is not None:
            task.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, expire)  # a timer, not a Timeout: hot path
    parts: list[bytes] = []
    size = 0
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise InvalidRequest("The client disconnected before sending the whole body.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts) if len(parts) != 1 else parts[0]
    except asyncio.CancelledError:
        if not expired or task is None:
            raise
        task.uncancel()
        raise RequestTimeout(
            f"The request body did not arrive within {timeout:g} s (server.body_timeout).",
            headers={"connection": "close"},
        ) from None
    finally:
        timer.cancel()


def parse_json_object(body: bytes) -> dict[str, Any]:
    if not body:
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return data


def encode_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers.items()]


async def send_bytes(
    send: Send, status: int, body: bytes, headers: Mapping[str, str], content_type: bytes = b"application/json"
) -> None:
    raw = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *encode_headers(headers)]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
    await send_bytes(send, status, orjson.dumps(payload), headers or {})


async def send_error(send: Send, error: PorticoError, headers: Mapping[str, str] | None = None) -> None:
    await send_json(send, error.status, error.payload(), {**(headers or {}), **error.response_headers()})
