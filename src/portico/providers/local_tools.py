"""Tool calls on the embedded model: ``tool_choice`` required or a named function.

The small local model has no tool-calling chat template, so a forced tool call is made
with llama.cpp's grammar-constrained sampling instead: the request asks for JSON matching
the function's parameter schema (or, for ``required`` with several tools, ``{"name": ...,
"arguments": ...}`` with one branch per tool), and the JSON that comes back is turned into
a well-formed ``tool_calls`` answer. ``auto`` leaves the model free to answer in text.
Earlier tool calls and tool results in the conversation are rendered as plain text turns,
which every chat template understands.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import orjson

from portico.errors import InvalidRequest, UpstreamError
from portico.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    ToolCall,
    ToolCallFunction,
)

ANY_OBJECT: dict[str, Any] = {"type": "object"}


@dataclass(frozen=True, slots=True)
class ForcedCall:
    """The plan for one forced tool call: the constrained body and how to read the answer."""

    body: dict[str, Any]
    name: str | None  # the function, when only one can be called; else read from the JSON


def _functions(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for tool in tools:
        if tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
            raise InvalidRequest(
                f"The local model supports only function tools, not '{tool.get('type')}'.",
                param="tools",
                code="unsupported_tool",
            )
        fn = tool["function"]
        out[str(fn.get("name"))] = fn
    return out


def _plain_history(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assistant tool calls and tool results as text turns (no tool roles in the template)."""
    out = []
    for m in messages:
        if m.get("role") == "tool":
            out.append({"role": "user", "content": f"Tool result ({m.get('tool_call_id', '')}): {m.get('content')}"})
        elif m.get("role") == "assistant" and m.get("tool_calls"):
            calls = "; ".join(
                f"{c['function']['name']}({c['function'].get('arguments') or '{}'})" for c in m["tool_calls"]
            )
            text = (m.get("content") or "") if isinstance(m.get("content"), str) else ""
            out.append({"role": "assistant", "content": (text + "\n" if text else "") + f"Called: {calls}"})
        else:
            out.append(m)
    return out


def plan_tool_call(body: dict[str, Any]) -> ForcedCall | None:
    """Rewrite ``body`` (an OpenAI chat body) for the local model. Returns the forced-call plan
    when ``tool_choice`` demands a call, else None (``body`` is then edited in place: tools
    are dropped, since the model cannot call them unforced, and the history made plain)."""
    tools = body.pop("tools", None) or []
    choice = body.pop("tool_choice", None)
    body.pop("parallel_tool_calls", None)
    body["messages"] = _plain_history(body["messages"])
    if not tools or choice in (None, "auto", "none"):
        return None
    functions = _functions(tools)
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if name not in functions:
            raise InvalidRequest(f"tool_choice names '{name}', which is not in 'tools'.", param="tool_choice")
        chosen = {name: functions[name]}
    elif choice == "required":
        chosen = functions
    else:
        raise InvalidRequest(f"tool_choice {choice!r} is not supported by the local model.", param="tool_choice")
    if body.get("response_format"):
        raise InvalidRequest(
            "The local model cannot combine a forced tool call with response_format.", param="response_format"
        )
    if len(chosen) == 1:
        name, fn = next(iter(chosen.items()))
        schema: dict[str, Any] = fn.get("parameters") or ANY_OBJECT
        single: str | None = name
    else:
        schema = {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"name": {"const": n}, "arguments": f.get("parameters") or ANY_OBJECT},
                    "required": ["name", "arguments"],
                }
                for n, f in chosen.items()
            ]
        }
        single = None
    listing = "\n".join(f"- {n}: {f.get('description') or ''}".rstrip(": ") for n, f in chosen.items())
    hint = (
        f"Call the function {single} by answering with its arguments as JSON."
        if single
        else 'Call one of these functions by answering with JSON {"name": ..., "arguments": {...}}.'
    )
    body["messages"] = [*body["messages"], {"role": "system", "content": f"Functions:\n{listing}\n{hint}"}]
    body["response_format"] = {"type": "json_schema", "json_schema": {"name": "tool_call", "schema": schema}}
    return ForcedCall(body, single)


def as_tool_call(forced: ForcedCall, reply: ChatResponse) -> ChatResponse:
    """The constrained JSON answer as a ``tool_calls`` reply."""
    choice = reply.choices[0]
    try:
        value = orjson.loads(choice.message.content or "")
    except orjson.JSONDecodeError:
        raise UpstreamError(
            "The local model's tool call was cut off before its JSON was complete; raise max_tokens.",
            code="tool_call_incomplete",
            retryable=False,
        ) from None
    if forced.name is not None:
        name, args = forced.name, value
    else:
        name, args = str(value.get("name")), value.get("arguments") or {}
    call = ToolCall(
        id="call_" + os.urandom(12).hex(),
        function=ToolCallFunction(name=name, arguments=orjson.dumps(args).decode()),
    )
    message = ResponseMessage(content=None, tool_calls=[call])
    return reply.model_copy(update={"choices": [Choice(message=message, finish_reason="tool_calls")]})


def tool_call_chunks(reply: ChatResponse) -> list[ChatChunk]:
    """A tool-call reply as the chunks a stream would carry (the call arrives whole)."""
    call = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    head = {"index": 0, "id": call.id, "type": "function"}
    fn = {"name": call.function.name, "arguments": call.function.arguments}
    return [
        ChatChunk(id=reply.id, model=reply.model, choices=[ChunkChoice(delta=Delta(role="assistant"))]),
        ChatChunk(
            id=reply.id, model=reply.model, choices=[ChunkChoice(delta=Delta(tool_calls=[{**head, "function": fn}]))]
        ),
        ChatChunk(id=reply.id, model=reply.model, choices=[ChunkChoice(finish_reason="tool_calls")]),
        ChatChunk(id=reply.id, model=reply.model, usage=reply.usage),
    ]
