"""The Responses API request as clients send it, checked field by field.

Every parameter Portico cannot honour is refused with a 400 that names it (never dropped
silently); the few that only select a default behaviour are accepted when they ask for it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portico.errors import InvalidRequest
from portico.server.validation import validate_body

# Parameters with no counterpart in a chat completion, and what to do instead.
UNSUPPORTED: dict[str, str] = {
    "background": "background responses are not supported; send the request without 'background'",
    "conversation": "conversations are not supported; chain responses with 'previous_response_id'",
    "prompt": "stored prompt templates are not supported; send 'instructions' and 'input'",
    "max_tool_calls": "built-in tools are not supported, so 'max_tool_calls' has nothing to limit",
    "top_logprobs": "log probabilities are not returned by the Responses API here; use /v1/chat/completions",
    "context_management": "'context_management' is not supported",
}
# Chat completion parameters that mean the same thing on both APIs: passed through unchanged.
PASS_THROUGH = ("user", "service_tier", "prompt_cache_key", "safety_identifier", "prompt_cache_retention")
# ``include`` values that are accepted because they can never add anything here.
HARMLESS_INCLUDES = frozenset({"reasoning.encrypted_content"})


class ResponsesRequest(BaseModel):
    """``POST /v1/responses``. Unknown fields are refused by :func:`parse_request`."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    input: str | list[dict[str, Any]]
    instructions: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    text: dict[str, Any] | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    metadata: dict[str, str] | None = Field(default=None, max_length=16)
    store: bool = True
    previous_response_id: str | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    truncation: Literal["disabled", "auto"] | None = None
    include: list[str] | None = None

    def extras(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


_KNOWN = frozenset(ResponsesRequest.model_fields) | frozenset(PASS_THROUGH)


def parse_request(data: dict[str, Any]) -> ResponsesRequest:
    """Validate ``data``; a 400 names the first parameter that cannot be honoured."""
    for name, why in UNSUPPORTED.items():
        if data.get(name) not in (None, False, 0):
            raise InvalidRequest(f"Unsupported parameter '{name}': {why}.", param=name, code="unsupported_parameter")
    for name in data:
        if name not in _KNOWN and name not in UNSUPPORTED:
            raise InvalidRequest(f"Unknown parameter '{name}' for /v1/responses.", param=name, code="unknown_parameter")
    req = validate_body(ResponsesRequest, data)
    if isinstance(req.input, str) and not req.input:
        raise InvalidRequest("'input' is empty; send a string or a list of input items.", param="input")
    if isinstance(req.input, list) and not req.input and not req.previous_response_id:
        raise InvalidRequest("'input' is an empty list; send at least one input item.", param="input")
    if req.truncation == "auto":
        raise InvalidRequest(
            "truncation 'auto' is not supported: Portico does not drop conversation items to fit a context "
            "window; send 'disabled' (the default) and keep the input within the model's context.",
            param="truncation",
            code="unsupported_parameter",
        )
    for item in req.include or ():
        if item not in HARMLESS_INCLUDES:
            raise InvalidRequest(
                f"include value '{item}' is not supported.", param="include", code="unsupported_parameter"
            )
    if req.reasoning and (req.reasoning.get("summary") or req.reasoning.get("generate_summary")):
        raise InvalidRequest(
            "reasoning summaries are not supported: chat-completion backends do not return them; "
            "send 'reasoning': {'effort': ...} only.",
            param="reasoning.summary",
            code="unsupported_parameter",
        )
    return req
