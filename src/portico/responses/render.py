"""Chat completion replies -> Responses objects (the ``response`` and its output items)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from portico.responses.request import ResponsesRequest
from portico.responses.translate import new_id
from portico.types import ChatResponse, Usage

INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


@dataclass(slots=True)
class Exchange:
    """One Responses request on its way through the pipeline: what it asked for, the
    normalised input items and the conversation before it (for storage and chaining)."""

    request: ResponsesRequest
    items: list[dict[str, Any]]
    history: list[dict[str, Any]]
    messages: list[dict[str, Any]]  # ``items`` as chat messages
    owner: str = "anonymous"
    id: str = field(default_factory=lambda: new_id("resp"))
    created_at: float = field(default_factory=time.time)


def message_item(text: str, *, item_id: str | None = None, status: str = "completed") -> dict[str, Any]:
    return {
        "id": item_id or new_id("msg"),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def function_call_item(
    call_id: str, name: str, arguments: str, *, item_id: str | None = None, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id or new_id("fc"),
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def file_search_item(rag: dict[str, Any]) -> dict[str, Any]:
    """The search the RAG stage ran, as a ``file_search_call`` output item."""
    results = [
        {
            "file_id": src.get("file_id"),
            "filename": src.get("filename"),
            "score": src.get("score"),
            "text": src.get("quote"),
            "attributes": {"vector_store_id": src.get("vector_store_id")},
        }
        for src in rag.get("sources") or []
    ]
    return {
        "id": new_id("fs"),
        "type": "file_search_call",
        "status": "completed",
        "queries": [rag["query"]] if rag.get("query") else [],
        "results": results,
    }


def usage_of(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    extra = usage.model_extra or {}
    cached = (extra.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (extra.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": int(cached)},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": int(reasoning)},
        "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
    }


def response_object(
    ex: Exchange,
    *,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    req = ex.request
    if status == "completed" and finish_reason in INCOMPLETE:
        status = "incomplete"
    text = dict(req.text or {})
    text.setdefault("format", {"type": "text"})
    return {
        "id": ex.id,
        "object": "response",
        "created_at": int(ex.created_at),
        "status": status,
        "completed_at": int(time.time()) if status == "completed" else None,
        "error": error,
        "incomplete_details": {"reason": INCOMPLETE[finish_reason]}
        if status == "incomplete" and finish_reason in INCOMPLETE
        else None,
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "metadata": dict(req.metadata or {}),
        "model": model,
        "output": output,
        "parallel_tool_calls": True if req.parallel_tool_calls is None else req.parallel_tool_calls,
        "previous_response_id": req.previous_response_id,
        "reasoning": {"effort": (req.reasoning or {}).get("effort"), "summary": None},
        "store": req.store,
        "temperature": req.temperature,
        "text": text,
        "tool_choice": req.tool_choice if req.tool_choice is not None else "auto",
        "tools": list(req.tools or []),
        "top_p": req.top_p,
        "truncation": "disabled",
        "usage": usage,
        "user": (req.model_extra or {}).get("user"),
    }


def output_of(reply: ChatResponse) -> tuple[list[dict[str, Any]], str | None]:
    """The output items of a chat reply and its finish reason. No empty message item is
    made for a reply that only calls tools."""
    if not reply.choices:
        return [], None
    choice = reply.choices[0]
    items: list[dict[str, Any]] = []
    text = choice.message.content or ""
    extra = choice.message.model_extra or {}
    refusal = extra.get("refusal")
    rag = (reply.model_extra or {}).get("portico_rag")
    if isinstance(rag, dict):  # answered by the RAG stage (a file_search tool)
        items.append(file_search_item(rag))
    if text:
        items.append(message_item(text))
        if isinstance(extra.get("annotations"), list):
            items[-1]["content"][0]["annotations"] = list(extra["annotations"])
    elif refusal:
        item = message_item("")
        item["content"] = [{"type": "refusal", "refusal": str(refusal)}]
        items.append(item)
    for call in choice.message.tool_calls or []:
        items.append(
            function_call_item(call.id or new_id("call"), call.function.name or "", call.function.arguments or "{}")
        )
    return items, choice.finish_reason


def reply_response(ex: Exchange, reply: ChatResponse) -> dict[str, Any]:
    output, finish = output_of(reply)
    return response_object(
        ex, model=reply.model, status="completed", output=output, usage=usage_of(reply.usage), finish_reason=finish
    )


def output_as_messages(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A response's output as the chat messages a follow-up request continues from."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for it in output:
        if it["type"] == "message":
            texts.extend(str(part.get("text") or part.get("refusal") or "") for part in it["content"])
        elif it["type"] == "function_call":
            fn = {"name": it["name"], "arguments": it["arguments"]}
            calls.append({"id": it["call_id"], "type": "function", "function": fn})
    text = "".join(texts)
    if not text and not calls:
        return []
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return [message]
