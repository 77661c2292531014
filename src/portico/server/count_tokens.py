"""POST /v1/messages/count_tokens: Anthropic's token count for a Messages request.

Anthropic's tokenizer is not public, so the count is ``cl100k_base`` BPE over the system
prompt, message texts and tool definitions, plus a few tokens per message for the turn
markers: an estimate, of the same order as what the model bills, never sent upstream.
"""

from __future__ import annotations

from typing import Any

import orjson

from portico.errors import InvalidRequest, ModelNotFound
from portico.feature import HEADERS_KEY
from portico.gateway import Gateway
from portico.providers.anthropic_wire import request_from_anthropic
from portico.server.asgi import Receive, Scope, Send, parse_json_object, read_body, send_json
from portico.server.validation import validate_body
from portico.types import ChatRequest

PER_MESSAGE = 3  # role and turn separators


async def handle_count_tokens(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    headers = scope[HEADERS_KEY]
    data = parse_json_object(await read_body(receive, headers, gateway.settings.server.max_body_bytes))
    if not isinstance(data.get("messages"), list) or not data["messages"]:
        raise InvalidRequest("Missing required parameter 'messages' (a non-empty list).", param="messages")
    req = validate_body(ChatRequest, request_from_anthropic(data))
    if not gateway.knows_model(req.model):
        raise ModelNotFound(f"The model '{req.model}' does not exist.", param="model")
    count = gateway.token_decoder.count
    total = sum(count(m.text()) + PER_MESSAGE for m in req.messages)
    for m in req.messages:
        for call in m.tool_calls or []:
            total += count((call.function.name or "") + (call.function.arguments or ""))
    tools: list[Any] = data.get("tools") or []
    if tools:
        total += count(orjson.dumps(tools).decode())
    await send_json(send, 200, {"input_tokens": total})
