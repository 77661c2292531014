"""Chat completion chunks -> the Responses API's stream of typed events.

The sequence follows OpenAI's: ``response.created``, ``response.in_progress``, then per
output item ``output_item.added`` (+ ``content_part.added`` for text), its deltas, its
``.done`` events and ``output_item.done``, and last ``response.completed`` (or
``response.incomplete`` / ``response.failed``). Every event has a ``sequence_number``.
Tool-call arguments are accumulated per tool-call index, so arguments split across
chunks (or a name and its arguments in separate chunks) make one function_call item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from portico.errors import PorticoError
from portico.pipeline import RequestContext
from portico.responses.render import Exchange, function_call_item, message_item, response_object, usage_of
from portico.responses.translate import new_id
from portico.server.dialect import sse
from portico.types import ChatChunk, Usage


@dataclass(slots=True)
class _Call:
    output_index: int
    item_id: str
    call_id: str
    name: str
    arguments: list[str] = field(default_factory=list)


class ResponsesStream:
    """A StreamEncoder for one response. ``final`` holds the finished response object."""

    def __init__(self, ctx: RequestContext, exchange: Exchange) -> None:
        self.ctx = ctx
        self.ex = exchange
        self.seq = 0
        self.started = False
        self.model = ctx.request.model
        self.output: list[dict[str, Any]] = []  # items in output order (filled in at the end)
        self.text_index: int | None = None
        self.text_id = ""
        self.text: list[str] = []
        self.calls: dict[int, _Call] = {}
        self.next_index = 0
        self.finish: str | None = None
        self.usage: Usage | None = None
        self.final: dict[str, Any] | None = None

    # ---- framing --------------------------------------------------------------------------
    def _event(self, kind: str, data: dict[str, Any]) -> bytes:
        payload = {"type": kind, "sequence_number": self.seq, **data}
        self.seq += 1
        return sse(orjson.dumps(payload), kind.encode())

    def _snapshot(self, status: str, **extra: Any) -> dict[str, Any]:
        return response_object(self.ex, model=self.model, status=status, output=[], **extra)

    def _start(self) -> bytes:
        self.started = True
        snap = self._snapshot("in_progress")
        return self._event("response.created", {"response": snap}) + self._event(
            "response.in_progress", {"response": snap}
        )

    # ---- chunks ---------------------------------------------------------------------------
    def chunk(self, chunk: ChatChunk) -> bytes | None:
        out = b"" if self.started else self._start()
        if chunk.model:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta.content:
                out += self._text_delta(delta.content)
            for call in delta.tool_calls or []:
                out += self._call_delta(call)
            if choice.finish_reason:
                self.finish = choice.finish_reason
        return out or None

    def _text_delta(self, text: str) -> bytes:
        out = b""
        if self.text_index is None:
            self.text_index, self.next_index = self.next_index, self.next_index + 1
            self.text_id = new_id("msg")
            item = message_item("", item_id=self.text_id, status="in_progress")
            item["content"] = []
            out += self._event("response.output_item.added", {"output_index": self.text_index, "item": item})
            out += self._event(
                "response.content_part.added",
                {
                    "item_id": self.text_id,
                    "output_index": self.text_index,
                    "content_index": 0,
                    "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
                },
            )
        self.text.append(text)
        return out + self._event(
            "response.output_text.delta",
            {
                "item_id": self.text_id,
                "output_index": self.text_index,
                "content_index": 0,
                "delta": text,
                "logprobs": [],
            },
        )

    def _call_delta(self, raw: dict[str, Any]) -> bytes:
        out = b""
        index = int(raw.get("index") or 0)
        fn = raw.get("function") or {}
        call = self.calls.get(index)
        if call is None:
            call = _Call(self.next_index, new_id("fc"), raw.get("id") or new_id("call"), fn.get("name") or "")
            self.calls[index] = call
            self.next_index += 1
            item = function_call_item(call.call_id, call.name, "", item_id=call.item_id, status="in_progress")
            out += self._event("response.output_item.added", {"output_index": call.output_index, "item": item})
        elif fn.get("name") and not call.name:
            call.name = fn["name"]
        if fn.get("arguments"):
            call.arguments.append(fn["arguments"])
            out += self._event(
                "response.function_call_arguments.delta",
                {"item_id": call.item_id, "output_index": call.output_index, "delta": fn["arguments"]},
            )
        return out

    # ---- endings --------------------------------------------------------------------------
    def _close_items(self) -> bytes:
        out = b""
        closing: list[tuple[int, bytes, dict[str, Any]]] = []
        if self.text_index is not None:
            text = "".join(self.text)
            item = message_item(text, item_id=self.text_id)
            part = item["content"][0]
            events = self._event(
                "response.output_text.done",
                {
                    "item_id": self.text_id,
                    "output_index": self.text_index,
                    "content_index": 0,
                    "text": text,
                    "logprobs": [],
                },
            ) + self._event(
                "response.content_part.done",
                {"item_id": self.text_id, "output_index": self.text_index, "content_index": 0, "part": part},
            )
            closing.append((self.text_index, events, item))
        for call in self.calls.values():
            args = "".join(call.arguments) or "{}"
            item = function_call_item(call.call_id, call.name, args, item_id=call.item_id)
            events = self._event(
                "response.function_call_arguments.done",
                {"item_id": call.item_id, "output_index": call.output_index, "name": call.name, "arguments": args},
            )
            closing.append((call.output_index, events, item))
        for index, events, item in sorted(closing, key=lambda c: c[0]):
            out += events + self._event("response.output_item.done", {"output_index": index, "item": item})
            self.output.append(item)
        return out

    def done(self) -> bytes:
        out = b"" if self.started else self._start()
        out += self._close_items()
        usage = self.usage if self.usage is not None else self.ctx.usage
        self.final = response_object(
            self.ex,
            model=self.model,
            status="completed",
            output=self.output,
            usage=usage_of(usage),
            finish_reason=self.finish,
        )
        kind = "response.completed" if self.final["status"] == "completed" else "response.incomplete"
        return out + self._event(kind, {"response": self.final})

    def error(self, error: PorticoError) -> bytes:
        out = b"" if self.started else self._start()
        self.final = response_object(
            self.ex,
            model=self.model,
            status="failed",
            output=[],
            usage=usage_of(self.usage),
            error={"code": error.code or error.type, "message": error.message},
        )
        return out + self._event("response.failed", {"response": self.final})
