"""A wire dialect: how one client protocol is parsed and rendered around the same pipeline.

OpenAI chat completions is the native one; Anthropic Messages is a translation (messages.py).
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from portico.errors import PorticoError
from portico.pipeline import RequestContext
from portico.server.validation import validate_body
from portico.types import ChatChunk, ChatRequest, ChatResponse


class StreamEncoder(Protocol):
    def chunk(self, chunk: ChatChunk) -> bytes | None: ...

    def done(self) -> bytes: ...

    def error(self, error: PorticoError) -> bytes: ...


class Dialect(Protocol):
    def parse(self, data: dict[str, Any]) -> ChatRequest: ...

    def response(self, ctx: RequestContext, reply: ChatResponse) -> bytes: ...

    def error_body(self, error: PorticoError) -> dict[str, Any]: ...

    def encoder(self, ctx: RequestContext) -> StreamEncoder: ...


def sse(payload: bytes, event: bytes | None = None) -> bytes:
    head = b"event: " + event + b"\n" if event else b""
    return head + b"data: " + payload + b"\n\n"


class OpenAIStream:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def chunk(self, chunk: ChatChunk) -> bytes | None:
        data = chunk.model_dump(exclude_none=True)
        if chunk.usage is not None and not chunk.choices:
            if not self.ctx.request.include_usage:
                return None
            data["portico"] = {"cost_usd": round(self.ctx.cost_usd, 10)}
        return sse(orjson.dumps(data))

    def done(self) -> bytes:
        return b"data: [DONE]\n\n"

    def error(self, error: PorticoError) -> bytes:
        return sse(orjson.dumps(error.payload()))


class OpenAIDialect:
    def parse(self, data: dict[str, Any]) -> ChatRequest:
        return validate_body(ChatRequest, data)

    def response(self, ctx: RequestContext, reply: ChatResponse) -> bytes:
        return orjson.dumps(reply.model_dump(exclude_none=True))

    def error_body(self, error: PorticoError) -> dict[str, Any]:
        return error.payload()

    def encoder(self, ctx: RequestContext) -> StreamEncoder:
        return OpenAIStream(ctx)
