"""POST /v1/messages: the Anthropic Messages API in front of any configured model.

Requests are translated to the OpenAI shape, run through the same pipeline (auth reads
``x-api-key`` too), and answers and stream events translated back.
"""

from __future__ import annotations

from typing import Any

import orjson

from portico.errors import PorticoError
from portico.gateway import Gateway
from portico.pipeline import RequestContext
from portico.providers.anthropic_wire import FINISH_TO_STOP, message_to_anthropic, request_from_anthropic
from portico.server.asgi import Receive, Scope, Send
from portico.server.chat import serve_chat
from portico.server.dialect import StreamEncoder, sse
from portico.server.validation import validate_body
from portico.types import ChatChunk, ChatRequest, ChatResponse

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
}


def _event(name: str, data: dict[str, Any]) -> bytes:
    return sse(orjson.dumps(data), name.encode())


class AnthropicStream:
    """Re-frames OpenAI chunks as Messages API events (text and tool-use blocks)."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self.started = False
        self.block: int = -1
        self.block_kind: str | None = None
        self.tool_blocks: dict[int, int] = {}
        self.stop_reason = "end_turn"
        self.output_tokens = 0
        self.input_tokens = 0

    def _start(self, chunk: ChatChunk) -> bytes:
        self.started = True
        return _event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_" + chunk.id.removeprefix("chatcmpl-"),
                    "type": "message",
                    "role": "assistant",
                    "model": self.ctx.request.model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 0, "output_tokens": 0},
                },
            },
        )

    def _close_block(self) -> bytes:
        if self.block_kind is None:
            return b""
        self.block_kind = None
        return _event("content_block_stop", {"type": "content_block_stop", "index": self.block})

    def _open(self, kind: str, block: dict[str, Any]) -> bytes:
        out = self._close_block()
        self.block += 1
        self.block_kind = kind
        return out + _event(
            "content_block_start", {"type": "content_block_start", "index": self.block, "content_block": block}
        )

    def chunk(self, chunk: ChatChunk) -> bytes | None:
        out = b"" if self.started else self._start(chunk)
        if chunk.usage is not None:
            self.input_tokens, self.output_tokens = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                if self.block_kind != "text":
                    out += self._open("text", {"type": "text", "text": ""})
                out += _event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": self.block,
                        "delta": {"type": "text_delta", "text": delta.content},
                    },
                )
            for call in delta.tool_calls or []:
                index = int(call.get("index", 0))
                fn = call.get("function") or {}
                if index not in self.tool_blocks:
                    out += self._open(
                        "tool_use",
                        {
                            "type": "tool_use",
                            "id": call.get("id") or f"toolu_{index}",
                            "name": fn.get("name") or "",
                            "input": {},
                        },
                    )
                    self.tool_blocks[index] = self.block
                if fn.get("arguments"):
                    out += _event(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": self.tool_blocks[index],
                            "delta": {"type": "input_json_delta", "partial_json": fn["arguments"]},
                        },
                    )
            if choice.finish_reason:
                self.stop_reason = FINISH_TO_STOP.get(choice.finish_reason, "end_turn")
        return out or None

    def done(self) -> bytes:
        return (
            self._close_block()
            + _event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                    "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
                },
            )
            + _event("message_stop", {"type": "message_stop"})
        )

    def error(self, error: PorticoError) -> bytes:
        return _event("error", AnthropicDialect().error_body(error))


class AnthropicDialect:
    def parse(self, data: dict[str, Any]) -> ChatRequest:
        if not isinstance(data.get("max_tokens"), int):
            from portico.errors import InvalidRequest

            raise InvalidRequest("Missing required parameter 'max_tokens' (an integer).", param="max_tokens")
        return validate_body(ChatRequest, request_from_anthropic(data))

    def response(self, ctx: RequestContext, reply: ChatResponse) -> bytes:
        body = message_to_anthropic(reply)
        body["model"] = ctx.request.model
        return orjson.dumps(body)

    def error_body(self, error: PorticoError) -> dict[str, Any]:
        etype = ERROR_TYPES.get(error.status, "api_error")
        return {"type": "error", "error": {"type": etype, "message": error.message}}

    def encoder(self, ctx: RequestContext) -> StreamEncoder:
        return AnthropicStream(ctx)


ANTHROPIC = AnthropicDialect()


async def handle_messages(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """POST /v1/messages."""
    await serve_chat(gateway, scope, receive, send, ANTHROPIC)
