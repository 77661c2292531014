"""POST /v1/completions: the legacy text-completion API as a dialect of the chat pipeline.

The prompt becomes one user message; the answer's choices become ``text`` choices. Chat
models answer a prompt rather than continue it, which is what clients of this endpoint get
from every OpenAI-compatible gateway that serves it over chat models. Parameters that have
no chat counterpart (``suffix``, ``echo``, ``logprobs``, ``best_of`` > 1) are refused by name.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from portico.embeddings.token_ids import is_token_input
from portico.errors import InvalidRequest, PorticoError
from portico.gateway import Gateway
from portico.pipeline import RequestContext
from portico.server.asgi import Receive, Scope, Send
from portico.server.chat import serve_chat
from portico.server.dialect import OpenAIStream, StreamEncoder, sse
from portico.server.validation import validate_body
from portico.types import ChatChunk, ChatRequest, ChatResponse

DEFAULT_MAX_TOKENS = 16  # OpenAI's documented default for this endpoint
_REFUSED = {
    "suffix": "'suffix' (fill-in-the-middle) is not supported: chat models cannot insert text; send only 'prompt'",
    "echo": "'echo' is not supported: the prompt is not repeated in the answer",
    "logprobs": "'logprobs' is not supported on /v1/completions; use /v1/chat/completions with 'logprobs'",
}
_CHAT_FIELDS = (
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "seed",
    "user",
)


def prompt_text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        return prompt[0]
    if isinstance(prompt, list) and len(prompt) > 1 and all(isinstance(p, str) for p in prompt):
        raise InvalidRequest(
            f"'prompt' has {len(prompt)} prompts; Portico answers one prompt per request: send each in its own "
            "request (or use 'n' for several answers to one prompt).",
            param="prompt",
            code="unsupported_parameter",
        )
    if is_token_input(prompt):
        raise InvalidRequest(
            "'prompt' as token ids is not supported; send the prompt as a string.",
            param="prompt",
            code="unsupported_parameter",
        )
    raise InvalidRequest("'prompt' must be a non-empty string (or a list of one string).", param="prompt")


def chat_request(data: dict[str, Any]) -> ChatRequest:
    for name, why in _REFUSED.items():
        if data.get(name) not in (None, False, ""):
            raise InvalidRequest(f"Unsupported parameter: {why}.", param=name, code="unsupported_parameter")
    if data.get("best_of") not in (None, 1):
        raise InvalidRequest(
            "'best_of' > 1 is not supported; use 'n' to get several completions.",
            param="best_of",
            code="unsupported_parameter",
        )
    if "prompt" not in data:
        raise InvalidRequest("Missing required parameter 'prompt'.", param="prompt")
    text = prompt_text(data["prompt"])
    if not text:
        raise InvalidRequest("'prompt' is empty.", param="prompt")
    body: dict[str, Any] = {k: data[k] for k in _CHAT_FIELDS if data.get(k) is not None}
    if "model" in data:
        body["model"] = data["model"]
    body["messages"] = [{"role": "user", "content": text}]
    body.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
    return validate_body(ChatRequest, body)


def _completion_id(chat_id: str) -> str:
    return "cmpl-" + (chat_id.removeprefix("chatcmpl-") or uuid.uuid4().hex[:24])


class CompletionStream:
    """Chat chunks re-framed as ``text_completion`` chunks, ending with ``data: [DONE]``."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self._openai = OpenAIStream(ctx)

    def chunk(self, chunk: ChatChunk) -> bytes | None:
        if chunk.usage is not None and not chunk.choices:
            if not self.ctx.request.include_usage:
                return None
            data: dict[str, Any] = self._frame(chunk, [])
            data["usage"] = chunk.usage.model_dump()
            return sse(orjson.dumps(data))
        choices = [
            {"text": c.delta.content or "", "index": c.index, "logprobs": None, "finish_reason": c.finish_reason}
            for c in chunk.choices
            if c.delta.content or c.finish_reason
        ]
        return sse(orjson.dumps(self._frame(chunk, choices))) if choices else None

    def _frame(self, chunk: ChatChunk, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": _completion_id(chunk.id),
            "object": "text_completion",
            "created": chunk.created,
            "model": self.ctx.request.model,
            "choices": choices,
        }

    def done(self) -> bytes:
        return self._openai.done()

    def error(self, error: PorticoError) -> bytes:
        return self._openai.error(error)


class CompletionsDialect:
    def parse(self, data: dict[str, Any]) -> ChatRequest:
        return chat_request(data)

    def response(self, ctx: RequestContext, reply: ChatResponse) -> bytes:
        choices = [
            {
                "text": c.message.content or "",
                "index": c.index,
                "logprobs": None,
                "finish_reason": c.finish_reason,
            }
            for c in reply.choices
        ]
        body = {
            "id": _completion_id(reply.id),
            "object": "text_completion",
            "created": reply.created or int(time.time()),
            "model": reply.model,
            "choices": choices,
            "usage": reply.usage.model_dump(),
        }
        return orjson.dumps(body)

    def error_body(self, error: PorticoError) -> dict[str, Any]:
        return error.payload()

    def encoder(self, ctx: RequestContext) -> StreamEncoder:
        return CompletionStream(ctx)


COMPLETIONS = CompletionsDialect()


async def handle_completions(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """POST /v1/completions."""
    await serve_chat(gateway, scope, receive, send, COMPLETIONS)
