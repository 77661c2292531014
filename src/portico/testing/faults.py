"""What the fake upstream does with one request: answer, fail, or misbehave."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["ok", "status", "hang", "reset", "malformed", "cut_stream", "stall_stream", "error_event"]


@dataclass(slots=True)
class Behaviour:
    """One scripted reaction. ``Behaviour()`` is a normal, successful answer.

    kind:
      ok            answer normally (after ``delay`` seconds; stream chunks ``chunk_delay`` apart)
      status        answer HTTP ``status`` with an OpenAI/Anthropic error body (+ Retry-After if set)
      hang          never answer (the client's timeout must fire)
      reset         drop the TCP connection without answering
      malformed     answer 200 with a body that is not JSON
      cut_stream    stream ``after_chunks`` chunks, then drop the connection (no [DONE])
      stall_stream  stream ``after_chunks`` chunks, then stop sending but keep the connection open
      error_event   stream ``after_chunks`` chunks, then an SSE error event
    """

    kind: FaultKind = "ok"
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    after_chunks: int = 1
    reply: str | None = None
    usage: tuple[int, int] | None = None
    message: str = "injected fault"
    error_code: str | None = None
    # Answer with these tool calls (``{"name": ..., "arguments": "<json>"}``) instead of text;
    # streamed, each call's arguments are split across several chunks.
    tool_calls: list[dict[str, str]] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Behaviour:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if isinstance(fields.get("usage"), list):
            fields["usage"] = tuple(fields["usage"])
        return cls(**fields)


@dataclass(slots=True)
class Script:
    """One-shot behaviours consumed in order, then ``default`` forever (or a failure ratio)."""

    queue: list[Behaviour] = field(default_factory=list)
    default: Behaviour = field(default_factory=Behaviour)

    def next(self) -> Behaviour:
        return self.queue.pop(0) if self.queue else self.default
