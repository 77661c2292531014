"""Translation between the OpenAI chat shape and Anthropic's Messages API (both directions)."""

from __future__ import annotations

from typing import Any

import orjson

from portico.types import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    ToolCall,
    ToolCallFunction,
    Usage,
)

DEFAULT_MAX_TOKENS = 4096
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def _content_blocks(msg: ChatMessage) -> list[dict[str, Any]]:
    if msg.content is None:
        return []
    if isinstance(msg.content, str):
        return [{"type": "text", "text": msg.content}] if msg.content else []
    blocks: list[dict[str, Any]] = []
    for part in msg.content:
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif part.get("type") == "image_url":
            url = str((part.get("image_url") or {}).get("url", ""))
            if url.startswith("data:") and ";base64," in url:
                media, data = url[5:].split(";base64,", 1)
                blocks.append({"type": "image", "source": {"type": "base64", "media_type": media, "data": data}})
            else:
                blocks.append({"type": "image", "source": {"type": "url", "url": url}})
    return blocks


def _tool_choice(choice: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if choice is None:
        return None
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    return None


def to_anthropic(req: ChatRequest, model: str, *, stream: bool) -> dict[str, Any]:
    """An OpenAI-shaped request as a Messages API body."""
    system: list[str] = []
    messages: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if messages and messages[-1]["role"] == role:  # Anthropic wants alternating turns
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})

    for m in req.messages:
        if m.role in ("system", "developer"):
            system.append(m.text())
        elif m.role in ("tool", "function"):
            add("user", [{"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.text()}])
        elif m.role == "assistant":
            blocks = _content_blocks(m)
            for tc in m.tool_calls or []:
                args = tc.function.arguments or "{}"
                try:
                    parsed = orjson.loads(args)
                except orjson.JSONDecodeError:
                    parsed = {"_raw": args}
                blocks.append({"type": "tool_use", "id": tc.id or "", "name": tc.function.name or "", "input": parsed})
            add("assistant", blocks)
        else:
            add("user", _content_blocks(m))
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": req.output_limit or DEFAULT_MAX_TOKENS,
    }
    if system:
        body["system"] = "\n\n".join(system)
    if req.temperature is not None:
        body["temperature"] = min(req.temperature, 1.0)
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.stop is not None:
        body["stop_sequences"] = [req.stop] if isinstance(req.stop, str) else list(req.stop)
    if req.tools:
        body["tools"] = [
            {
                "name": t["function"]["name"],
                "description": t["function"].get("description", ""),
                "input_schema": t["function"].get("parameters") or {"type": "object", "properties": {}},
            }
            for t in req.tools
            if t.get("type") == "function" and isinstance(t.get("function"), dict)
        ]
        choice = _tool_choice(req.tool_choice)
        if choice is not None:
            body["tool_choice"] = choice
    if req.user:
        body["metadata"] = {"user_id": req.user}
    if stream:
        body["stream"] = True
    return body


def from_anthropic(data: dict[str, Any], model: str) -> ChatResponse:
    """A Messages API response as an OpenAI chat completion."""
    text: list[str] = []
    calls: list[ToolCall] = []
    for block in data.get("content") or []:
        if block.get("type") == "text":
            text.append(block.get("text", ""))
        elif block.get("type") == "tool_use":
            calls.append(
                ToolCall(
                    id=block.get("id"),
                    function=ToolCallFunction(
                        name=block.get("name"), arguments=orjson.dumps(block.get("input") or {}).decode()
                    ),
                )
            )
    usage = data.get("usage") or {}
    return ChatResponse(
        id="chatcmpl-" + str(data.get("id", "")).removeprefix("msg_"),
        model=model,
        choices=[
            Choice(
                message=ResponseMessage(content="".join(text) if text or not calls else None, tool_calls=calls or None),
                finish_reason=STOP_REASONS.get(str(data.get("stop_reason")), "stop"),
            )
        ],
        usage=Usage.of(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))),
    )


class StreamTranslator:
    """Turns Messages API stream events into OpenAI chunks, one event at a time."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = "chatcmpl-"
        self.input_tokens = 0
        self.output_tokens = 0
        self.finish: str | None = None
        self._tool_index: dict[int, int] = {}
        self.stopped = False

    def _chunk(self, delta: Delta, finish: str | None = None) -> ChatChunk:
        return ChatChunk(id=self.id, model=self.model, choices=[ChunkChoice(delta=delta, finish_reason=finish)])

    def feed(self, event: str, data: dict[str, Any]) -> list[ChatChunk]:
        kind = data.get("type", event)
        if kind == "message_start":
            msg = data.get("message") or {}
            self.id = "chatcmpl-" + str(msg.get("id", "")).removeprefix("msg_")
            self.input_tokens = int((msg.get("usage") or {}).get("input_tokens", 0))
            self.output_tokens = int((msg.get("usage") or {}).get("output_tokens", 0))
            return [self._chunk(Delta(role="assistant", content=""))]
        if kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                index = len(self._tool_index)
                self._tool_index[int(data.get("index", 0))] = index
                call = {
                    "index": index,
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": ""},
                }
                return [self._chunk(Delta(tool_calls=[call]))]
            if block.get("type") == "text" and block.get("text"):
                return [self._chunk(Delta(content=block["text"]))]
            return []
        if kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                return [self._chunk(Delta(content=delta.get("text", "")))]
            if delta.get("type") == "input_json_delta":
                index = self._tool_index.get(int(data.get("index", 0)), 0)
                call = {"index": index, "function": {"arguments": delta.get("partial_json", "")}}
                return [self._chunk(Delta(tool_calls=[call]))]
            return []
        if kind == "message_delta":
            delta = data.get("delta") or {}
            if delta.get("stop_reason"):
                self.finish = STOP_REASONS.get(str(delta["stop_reason"]), "stop")
            usage = data.get("usage") or {}
            if "output_tokens" in usage:
                self.output_tokens = int(usage["output_tokens"])
            if usage.get("input_tokens"):
                self.input_tokens = int(usage["input_tokens"])
            return []
        if kind == "message_stop":
            self.stopped = True
            final = self._chunk(Delta(), self.finish or "stop")
            usage = ChatChunk(
                id=self.id, model=self.model, choices=[], usage=Usage.of(self.input_tokens, self.output_tokens)
            )
            return [final, usage]
        return []  # ping and unknown events
