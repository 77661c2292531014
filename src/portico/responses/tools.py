"""Tool types of the Responses API, each translated by a handler: the seam for new tool kinds.

A handler turns one Responses tool spec into the chat-completions tool the pipeline
sends upstream. ``function`` is built in; a feature that serves a hosted tool (e.g.
``file_search`` from the RAG package) registers its own handler for that type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from portico.errors import InvalidRequest

ToolHandler = Callable[[dict[str, Any]], dict[str, Any]]


def function_tool(spec: dict[str, Any]) -> dict[str, Any]:
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("A function tool needs a 'name'.", param="tools.name")
    function: dict[str, Any] = {"name": name}
    for field in ("description", "parameters", "strict"):
        if spec.get(field) is not None:
            function[field] = spec[field]
    return {"type": "function", "function": function}


class ToolKinds:
    """Tool type -> handler. Unknown types get a 400 that lists the supported ones."""

    def __init__(self, handlers: Mapping[str, ToolHandler] | None = None) -> None:
        self._handlers: dict[str, ToolHandler] = {"function": function_tool, **(handlers or {})}

    def register(self, kind: str, handler: ToolHandler) -> None:
        self._handlers[kind] = handler

    @property
    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def to_chat(self, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for spec in tools:
            kind = spec.get("type")
            handler = self._handlers.get(kind) if isinstance(kind, str) else None
            if handler is None:
                raise InvalidRequest(
                    f"Tool type '{kind}' is not supported; supported tool types: {', '.join(self.kinds)}.",
                    param="tools.type",
                    code="unsupported_tool",
                )
            out.append(handler(spec))
        return out

    def choice_to_chat(self, choice: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if choice is None or choice in ("auto", "none", "required"):
            return choice
        if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
            return {"type": "function", "function": {"name": choice["name"]}}
        raise InvalidRequest(
            f"tool_choice {choice!r} is not supported; send 'auto', 'none', 'required' or "
            "{'type': 'function', 'name': ...}.",
            param="tool_choice",
            code="unsupported_tool_choice",
        )
