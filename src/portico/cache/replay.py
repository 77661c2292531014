"""Cached answers as bytes, a stored answer replayed as a stream, and a streamed answer recorded."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from portico.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    ToolCall,
    Usage,
    new_completion_id,
)

# Answers cut short by a filter or an error are not worth replaying.
CACHEABLE_FINISH = frozenset({"stop", "length", "tool_calls", "function_call"})
_REPLAY_PIECE = 64  # characters per replayed chunk: small enough to look like a stream


def encode(response: ChatResponse) -> bytes:
    return orjson.dumps(response.model_dump(mode="json", exclude_none=True))


def decode(raw: bytes) -> ChatResponse:
    return ChatResponse.model_validate(orjson.loads(raw))


def cacheable(response: ChatResponse) -> bool:
    return bool(response.choices) and all(c.finish_reason in CACHEABLE_FINISH for c in response.choices)


def fresh_copy(response: ChatResponse) -> ChatResponse:
    """The stored answer under a new id and timestamp (a hit is a new completion)."""
    return response.model_copy(update={"id": new_completion_id(), "created": int(time.time())})


async def replay(response: ChatResponse, include_usage: bool) -> AsyncIterator[ChatChunk]:
    """Chunks as an upstream would stream ``response``: role, content pieces, finish, usage."""
    cid, created, model = response.id, response.created, response.model
    for choice in response.choices:
        msg = choice.message
        yield ChatChunk(
            id=cid,
            created=created,
            model=model,
            choices=[ChunkChoice(index=choice.index, delta=Delta(role=msg.role, content=""))],
        )
        text = msg.content or ""
        for start in range(0, len(text), _REPLAY_PIECE):
            piece = text[start : start + _REPLAY_PIECE]
            yield ChatChunk(
                id=cid,
                created=created,
                model=model,
                choices=[ChunkChoice(index=choice.index, delta=Delta(content=piece))],
            )
        if msg.tool_calls:
            calls = [dict(c.model_dump(exclude_none=True), index=i) for i, c in enumerate(msg.tool_calls)]
            yield ChatChunk(
                id=cid,
                created=created,
                model=model,
                choices=[ChunkChoice(index=choice.index, delta=Delta(tool_calls=calls))],
            )
        yield ChatChunk(
            id=cid,
            created=created,
            model=model,
            choices=[ChunkChoice(index=choice.index, finish_reason=choice.finish_reason)],
        )
    if include_usage:
        yield ChatChunk(id=cid, created=created, model=model, choices=[], usage=response.usage)


class StreamRecorder:
    """Rebuilds the full answer from the chunks that pass through; ``complete`` once exhausted."""

    def __init__(self) -> None:
        self.complete = False
        self._id = ""
        self._model = ""
        self._created = 0
        self._text: dict[int, list[str]] = {}
        self._role: dict[int, str] = {}
        self._finish: dict[int, str | None] = {}
        self._tools: dict[int, dict[int, dict[str, Any]]] = {}
        self.usage: Usage | None = None

    async def record(self, chunks: AsyncIterator[ChatChunk]) -> AsyncIterator[ChatChunk]:
        async for chunk in chunks:
            self._see(chunk)
            yield chunk
        self.complete = True

    def _see(self, chunk: ChatChunk) -> None:
        self._id, self._model, self._created = chunk.id, chunk.model, chunk.created
        if chunk.usage is not None:
            self.usage = chunk.usage
        for c in chunk.choices:
            self._text.setdefault(c.index, [])
            if c.delta.role:
                self._role[c.index] = c.delta.role
            if c.delta.content:
                self._text[c.index].append(c.delta.content)
            for call in c.delta.tool_calls or []:
                self._merge_tool_call(c.index, call)
            if c.finish_reason is not None:
                self._finish[c.index] = c.finish_reason

    def _merge_tool_call(self, choice: int, delta: dict[str, Any]) -> None:
        calls = self._tools.setdefault(choice, {})
        slot = calls.setdefault(int(delta.get("index", len(calls))), {"function": {"arguments": ""}})
        for field in ("id", "type"):
            if delta.get(field):
                slot[field] = delta[field]
        fn = delta.get("function") or {}
        if fn.get("name"):
            slot["function"]["name"] = fn["name"]
        slot["function"]["arguments"] += fn.get("arguments") or ""

    def response(self, fallback_usage: Usage | None) -> ChatResponse | None:
        """The answer as a ChatResponse, or None when the stream did not finish cleanly."""
        if not self.complete or not self._text:
            return None
        choices = []
        for index in sorted(self._text):
            calls = self._tools.get(index)
            tool_calls = [ToolCall.model_validate(calls[i]) for i in sorted(calls)] if calls else None
            message = ResponseMessage(
                role=self._role.get(index, "assistant"),
                content="".join(self._text[index]) or (None if tool_calls else ""),
                tool_calls=tool_calls,
            )
            choices.append(Choice(index=index, message=message, finish_reason=self._finish.get(index)))
        usage = self.usage or fallback_usage or Usage()
        return ChatResponse(id=self._id, created=self._created, model=self._model, choices=choices, usage=usage)
