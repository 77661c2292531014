"""Translation between the OpenAI chat shape and Anthropic's Messages API (both directions)."""

from __future__ import annotations

from typing import Any

import orjson

from portico.errors import InvalidRequest
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
# The Messages API has no response_format: a JSON answer is asked for as a forced call of
# this tool whose input schema is the requested one, and its input is returned as the text.
JSON_TOOL = "portico_json_output"
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
    _refuse_unsupported(req)
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
        if (req.model_extra or {}).get("parallel_tool_calls") is False:
            body["tool_choice"] = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    schema = json_output_schema(req)
    if schema is not None:
        body["tools"] = [{"name": JSON_TOOL, "description": "Answer with this JSON.", "input_schema": schema}]
        body["tool_choice"] = {"type": "tool", "name": JSON_TOOL}
    if req.user:
        body["metadata"] = {"user_id": req.user}
    if stream:
        body["stream"] = True
    return body


def _refuse_unsupported(req: ChatRequest) -> None:
    if req.n != 1:
        raise InvalidRequest("The Anthropic backend answers n=1 only.", param="n", code="unsupported_parameter")
    if (req.model_extra or {}).get("logprobs"):
        raise InvalidRequest(
            "The Anthropic backend does not return log probabilities.", param="logprobs", code="unsupported_parameter"
        )


def json_output_schema(req: ChatRequest) -> dict[str, Any] | None:
    """The schema of a JSON answer asked for with response_format (None for plain text)."""
    fmt = req.response_format or {}
    if fmt.get("type") not in ("json_object", "json_schema"):
        return None
    if req.tools:
        raise InvalidRequest(
            "The Anthropic backend cannot combine response_format with tools.",
            param="response_format",
            code="unsupported_parameter",
        )
    if fmt["type"] == "json_object":
        return {"type": "object"}
    schema = (fmt.get("json_schema") or {}).get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise InvalidRequest(
            "On the Anthropic backend a json_schema must describe an object (type: object).",
            param="response_format",
            code="unsupported_parameter",
        )
    return schema


def _finish(stop_reason: str, json_answer: bool) -> str:
    # a JSON answer ends with the forced tool call: for the client that is a normal stop
    if json_answer and stop_reason == "tool_use":
        return "stop"
    return STOP_REASONS.get(stop_reason, "stop")


def from_anthropic(data: dict[str, Any], model: str) -> ChatResponse:
    """A Messages API response as an OpenAI chat completion."""
    text: list[str] = []
    calls: list[ToolCall] = []
    json_answer = False
    for block in data.get("content") or []:
        if block.get("type") == "text":
            text.append(block.get("text", ""))
        elif block.get("type") == "tool_use" and block.get("name") == JSON_TOOL:
            text, json_answer = [orjson.dumps(block.get("input") or {}).decode()], True
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
                finish_reason=_finish(str(data.get("stop_reason")), json_answer),
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
        self._json_block: int | None = None  # the content block of a JSON answer (JSON_TOOL)
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
            if block.get("type") == "tool_use" and block.get("name") == JSON_TOOL:
                self._json_block = int(data.get("index", 0))
                return []
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
            if delta.get("type") == "input_json_delta" and int(data.get("index", 0)) == self._json_block:
                return [self._chunk(Delta(content=delta.get("partial_json", "")))]
            if delta.get("type") == "input_json_delta":
                index = self._tool_index.get(int(data.get("index", 0)), 0)
                call = {"index": index, "function": {"arguments": delta.get("partial_json", "")}}
                return [self._chunk(Delta(tool_calls=[call]))]
            return []
        if kind == "message_delta":
            delta = data.get("delta") or {}
            if delta.get("stop_reason"):
                self.finish = _finish(str(delta["stop_reason"]), self._json_block is not None)
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


# ---- the other direction: Anthropic-speaking clients in front of any model ----------------

FINISH_TO_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def _openai_parts(blocks: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for b in blocks:
        if b.get("type") == "text":
            parts.append({"type": "text", "text": b.get("text", "")})
        elif b.get("type") == "image":
            src = b.get("source") or {}
            url = src.get("url") or f"data:{src.get('media_type')};base64,{src.get('data', '')}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def request_from_anthropic(data: dict[str, Any]) -> dict[str, Any]:
    """A Messages API request body as an OpenAI chat request body (validated by the caller)."""
    messages: list[dict[str, Any]] = []
    system = data.get("system")
    if system:
        text = system if isinstance(system, str) else "".join(b.get("text", "") for b in _blocks(system))
        messages.append({"role": "system", "content": text})
    raw_messages = data.get("messages")
    for m in raw_messages if isinstance(raw_messages, list) else []:
        if not isinstance(m, dict):
            continue
        blocks = _blocks(m.get("content"))
        if m.get("role") == "assistant":
            calls = [
                {
                    "id": b.get("id"),
                    "type": "function",
                    "function": {"name": b.get("name"), "arguments": orjson.dumps(b.get("input") or {}).decode()},
                }
                for b in blocks
                if b.get("type") == "tool_use"
            ]
            text_blocks = [b for b in blocks if b.get("type") != "tool_use"]
            msg: dict[str, Any] = {"role": "assistant", "content": _openai_parts(text_blocks) if text_blocks else None}
            if calls:
                msg["tool_calls"] = calls
            messages.append(msg)
            continue
        for b in blocks:
            if b.get("type") == "tool_result":
                content = b.get("content")
                text = (
                    content
                    if isinstance(content, str)
                    else "".join(x.get("text", "") for x in _blocks(content) if x.get("type") == "text")
                )
                messages.append({"role": "tool", "tool_call_id": b.get("tool_use_id"), "content": text})
        rest = [b for b in blocks if b.get("type") != "tool_result"]
        if rest:
            messages.append({"role": m.get("role", "user"), "content": _openai_parts(rest)})
    out: dict[str, Any] = {
        "model": data.get("model"),
        "messages": messages or raw_messages,
        "max_tokens": data.get("max_tokens"),
        "stream": bool(data.get("stream", False)),
    }
    for key in ("temperature", "top_p"):
        if data.get(key) is not None:
            out[key] = data[key]
    if data.get("stop_sequences"):
        out["stop"] = data["stop_sequences"]
    if isinstance(data.get("metadata"), dict) and data["metadata"].get("user_id"):
        out["user"] = str(data["metadata"]["user_id"])
    if data.get("tools"):
        out["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.get("name"),
                    "description": t.get("description", ""),
                    "parameters": t.get("input_schema") or {"type": "object"},
                },
            }
            for t in data["tools"]
            if isinstance(t, dict)
        ]
    choice = data.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "tool":
            out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
        elif kind in ("auto", "none"):
            out["tool_choice"] = kind
        elif kind == "any":
            out["tool_choice"] = "required"
    if out["stream"]:
        out["stream_options"] = {"include_usage": True}
    return out


def message_to_anthropic(resp: ChatResponse) -> dict[str, Any]:
    """An OpenAI chat completion as a Messages API response."""
    choice = resp.choices[0] if resp.choices else None
    content: list[dict[str, Any]] = []
    if choice is not None:
        if choice.message.content:
            content.append({"type": "text", "text": choice.message.content})
        for call in choice.message.tool_calls or []:
            try:
                args = orjson.loads(call.function.arguments or "{}")
            except orjson.JSONDecodeError:
                args = {"_raw": call.function.arguments}
            content.append({"type": "tool_use", "id": call.id or "", "name": call.function.name or "", "input": args})
    return {
        "id": "msg_" + resp.id.removeprefix("chatcmpl-"),
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": content,
        "stop_reason": FINISH_TO_STOP.get(str(choice.finish_reason if choice else "stop"), "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": resp.usage.prompt_tokens, "output_tokens": resp.usage.completion_tokens},
    }
