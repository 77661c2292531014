"""Cache keys built from the whole request, so nothing that changes the answer is left out.

The key covers every field of the request (unknown provider parameters too) except the
transport flags ``stream`` / ``stream_options``: a denylist of what cannot change the
answer, rather than an allowlist that forgets a new sampling parameter (LiteLLM #42400).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from portico.cache.normalize import normalize_turn
from portico.cache.settings import Partition
from portico.pipeline import Caller
from portico.types import ChatRequest

KEY_VERSION = 1
_TRANSPORT_ONLY = ("stream", "stream_options")


def partition_of(caller: Caller, partition: Partition) -> str:
    """The tenant an entry belongs to; a team partition without a team falls back to the key."""
    if partition == "global":
        return "global"
    if partition == "team" and caller.team_id:
        return "team:" + caller.team_id
    return "key:" + (caller.key_id or "anonymous")


def _canonical(request: ChatRequest, model: str) -> dict[str, Any]:
    body = request.model_dump(mode="json", exclude_none=True)
    for name in _TRANSPORT_ONLY:
        body.pop(name, None)
    body["model"] = model
    return body


def _digest(material: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS)).hexdigest()


def exact_key(request: ChatRequest, model: str, tenant: str) -> str:
    """The hash of the canonical full request as routed to ``model``, within ``tenant``."""
    return _digest({"v": KEY_VERSION, "tenant": tenant, "request": _canonical(request, model)})


def current_turn(request: ChatRequest) -> str | None:
    """The normalised text of the final user message, or None when the last turn is not a user's."""
    last = request.messages[-1]
    if last.role != "user":
        return None
    if isinstance(last.content, list) and any(part.get("type") != "text" for part in last.content):
        return None  # an image or audio part: the text alone does not say what was asked
    text = normalize_turn(last.text())
    return text or None


def semantic_scope(request: ChatRequest, model: str, tenant: str) -> str:
    """Everything but the current user turn's text: model, system prompt, sampling parameters,
    tools, the earlier conversation and the tenant. Entries only match inside one scope, so a
    follow-up like "how old is he?" never matches across conversations (GPTCache #8)."""
    body = _canonical(request, model)
    body["messages"][-1].pop("content", None)
    return _digest({"v": KEY_VERSION, "tenant": tenant, "scope": body})
