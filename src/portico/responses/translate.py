"""Responses input items -> chat messages, and the chat request the pipeline runs.

Input items are first normalised (ids given, a string input made a user message) because
the same list is stored and listed by ``GET /v1/responses/{id}/input_items``.
"""

from __future__ import annotations

import os
from typing import Any

from portico.errors import InvalidRequest
from portico.responses.request import PASS_THROUGH, ResponsesRequest
from portico.responses.tools import ToolKinds

MESSAGE_ROLES = ("user", "system", "developer", "assistant")


def new_id(prefix: str) -> str:
    # 128 random bits like a uuid4, at a fifth of uuid4's cost (several ids per response)
    return f"{prefix}_{os.urandom(16).hex()}"


def _parts(content: Any, role: str, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        kind = "output_text" if role == "assistant" else "input_text"
        return [{"type": kind, "text": content}]
    if not isinstance(content, list):
        raise InvalidRequest(f"'{where}.content' must be a string or a list of content parts.", param=where)
    return [p for p in content if isinstance(p, dict)]


def normalize_items(req: ResponsesRequest) -> list[dict[str, Any]]:
    """The request's input as a list of items in the Responses shape, each with an id."""
    if isinstance(req.input, str):
        return [_message("user", [{"type": "input_text", "text": req.input}])]
    items = []
    for i, raw in enumerate(req.input):
        kind = raw.get("type", "message" if "role" in raw else None)
        where = f"input[{i}]"
        if kind == "message":
            role = raw.get("role")
            if role not in MESSAGE_ROLES:
                raise InvalidRequest(f"'{where}.role' must be one of {', '.join(MESSAGE_ROLES)}.", param=where)
            item = _message(str(role), _parts(raw.get("content"), str(role), where))
            if isinstance(raw.get("id"), str):
                item["id"] = raw["id"]
            items.append(item)
        elif kind == "function_call":
            if not isinstance(raw.get("call_id"), str) or not isinstance(raw.get("name"), str):
                raise InvalidRequest(f"'{where}' (function_call) needs 'call_id' and 'name'.", param=where)
            items.append(
                {
                    "id": raw.get("id") or new_id("fc"),
                    "type": "function_call",
                    "call_id": raw["call_id"],
                    "name": raw["name"],
                    "arguments": str(raw.get("arguments") or "{}"),
                    "status": "completed",
                }
            )
        elif kind == "function_call_output":
            if not isinstance(raw.get("call_id"), str):
                raise InvalidRequest(f"'{where}' (function_call_output) needs 'call_id'.", param=where)
            items.append(
                {
                    "id": raw.get("id") or new_id("fco"),
                    "type": "function_call_output",
                    "call_id": raw["call_id"],
                    "output": raw.get("output", ""),
                    "status": "completed",
                }
            )
        elif kind == "reasoning":
            continue  # a previous turn's reasoning state: chat backends have no place for it
        elif kind == "item_reference":
            raise InvalidRequest(
                f"'{where}': item references are not supported; send the item itself or chain with "
                "'previous_response_id'.",
                param=where,
                code="unsupported_input_item",
            )
        else:
            raise InvalidRequest(
                f"'{where}': input items of type '{kind}' are not supported (supported: message, function_call, "
                "function_call_output, reasoning).",
                param=where,
                code="unsupported_input_item",
            )
    return items


def _message(role: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": new_id("msg"), "type": "message", "role": role, "content": content, "status": "completed"}


def _chat_part(part: dict[str, Any], where: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"type": "text", "text": str(part.get("text", ""))}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal", ""))}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str) or not url:
            raise InvalidRequest(
                f"'{where}': input_image needs 'image_url' (an https or data: URL); 'file_id' images are "
                "not supported.",
                param=where,
                code="unsupported_content",
            )
        image: dict[str, Any] = {"url": url}
        if part.get("detail") in ("low", "high"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    raise InvalidRequest(
        f"'{where}': content parts of type '{kind}' are not supported (supported: input_text, input_image, "
        "output_text, refusal).",
        param=where,
        code="unsupported_content",
    )


def _content(parts: list[dict[str, Any]], where: str) -> str | list[dict[str, Any]]:
    chat = [_chat_part(p, f"{where}.content[{j}]") for j, p in enumerate(parts)]
    if all(p["type"] == "text" for p in chat):
        return "".join(p["text"] for p in chat)  # plain strings suit every backend's template
    return chat


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
    return str(output)


def items_to_messages(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalised input items as chat messages; consecutive function calls join one assistant turn."""
    messages: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        kind = item["type"]
        if kind == "message":
            role = item["role"]
            messages.append({"role": role, "content": _content(item["content"], f"input[{i}]")})
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and not isinstance(last.get("content"), list):
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": _output_text(item["output"])})
    return messages


def _text_format(text: dict[str, Any] | None) -> dict[str, Any] | None:
    fmt = (text or {}).get("format")
    if fmt is None or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if fmt.get("type") == "json_schema":
        if not isinstance(fmt.get("schema"), dict) or not isinstance(fmt.get("name"), str):
            raise InvalidRequest(
                "text.format of type 'json_schema' needs 'name' and 'schema'.", param="text.format.schema"
            )
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if fmt.get(k) is not None}
        return {"type": "json_schema", "json_schema": schema}
    raise InvalidRequest(
        f"text.format type {fmt.get('type')!r} is not supported; use 'text', 'json_object' or 'json_schema'.",
        param="text.format.type",
    )


def chat_body(
    req: ResponsesRequest, history: list[dict[str, Any]], messages_in: list[dict[str, Any]], tools: ToolKinds
) -> dict[str, Any]:
    """The chat completion request for ``req``: instructions first, then the earlier
    conversation (from ``previous_response_id``), then this request's input."""
    messages: list[dict[str, Any]] = []
    if req.instructions:
        messages.append({"role": "system", "content": req.instructions})
    messages.extend(history)
    messages.extend(messages_in)
    if not messages:
        raise InvalidRequest("The request has no input to answer.", param="input")
    body: dict[str, Any] = {"model": req.model, "messages": messages, "stream": req.stream}
    if req.tools:
        body["tools"] = tools.to_chat(req.tools)
    choice = tools.choice_to_chat(req.tool_choice)
    if choice is not None:
        body["tool_choice"] = choice
    if req.parallel_tool_calls is not None and req.tools:
        body["parallel_tool_calls"] = req.parallel_tool_calls
    fmt = _text_format(req.text)
    if fmt is not None:
        body["response_format"] = fmt
    if (req.text or {}).get("verbosity") is not None:
        body["verbosity"] = req.text["verbosity"]  # type: ignore[index]
    if req.reasoning and req.reasoning.get("effort") is not None:
        body["reasoning_effort"] = req.reasoning["effort"]
    for name, value in (
        ("max_completion_tokens", req.max_output_tokens),
        ("temperature", req.temperature),
        ("top_p", req.top_p),
    ):
        if value is not None:
            body[name] = value
    extras = req.extras()
    for name in PASS_THROUGH:
        if extras.get(name) is not None:
            body[name] = extras[name]
    return body
