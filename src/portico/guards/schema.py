"""``response_format: {type: json_schema}`` enforcement: validate an answer, build the
one repair request, explain failures in a sentence."""

from __future__ import annotations

import json
from typing import Any

from portico.types import ChatMessage, ChatRequest

REPAIR_PROMPT = (
    "Your previous reply does not satisfy the required JSON schema: {error}. "
    "Reply again with only the corrected JSON, no prose and no code fences."
)


def required_schema(request: ChatRequest) -> dict[str, Any] | None:
    """The JSON schema the request demands, or None."""
    fmt = request.response_format or {}
    if fmt.get("type") != "json_schema":
        return None
    spec = fmt.get("json_schema") or {}
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else {}


def schema_error(text: str, schema: dict[str, Any]) -> str | None:
    """None if ``text`` is JSON valid against ``schema``, else a one-line reason."""
    import jsonschema

    body = text.strip()
    if body.startswith("```"):
        # Models often fence JSON; tolerate the fence, not other prose.
        body = body.strip("`").removeprefix("json").strip()
    try:
        instance = json.loads(body)
    except ValueError as exc:
        return f"not valid JSON ({exc})"
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {where}: {error.message}"


def repair_request(request: ChatRequest, answer: str, error: str) -> ChatRequest:
    """The original request plus the bad answer and what was wrong with it."""
    messages = [
        *request.messages,
        ChatMessage(role="assistant", content=answer),
        ChatMessage(role="user", content=REPAIR_PROMPT.format(error=error)),
    ]
    return request.model_copy(update={"messages": messages})
