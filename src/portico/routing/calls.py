"""Bookkeeping shared by the multi-call policies (cascade, ensemble): every call's usage and
cost, summed onto the request, and a finished response replayed as a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from portico.pipeline import ChunkStream, RequestContext
from portico.routing.route import CostFn
from portico.types import ChatChunk, ChatResponse, ChunkChoice, Delta, Usage


@dataclass(slots=True)
class CallLog:
    """The calls a policy made for one request."""

    cost_of: CostFn
    calls: list[dict[str, Any]] = field(default_factory=list)

    def add(self, model: str, role: str, response: ChatResponse) -> None:
        u = response.usage
        self.calls.append(
            {
                "model": model,
                "role": role,
                "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens,
                "cost_usd": self.cost_of(model, u),
            }
        )

    @property
    def cost_usd(self) -> float:
        return float(sum(c["cost_usd"] for c in self.calls))

    def usage(self) -> Usage:
        return Usage.of(
            sum(int(c["prompt_tokens"]) for c in self.calls),
            sum(int(c["completion_tokens"]) for c in self.calls),
        )

    def settle(self, ctx: RequestContext, final_model: str, extra: dict[str, Any]) -> None:
        """Record every call on ``ctx``: usage and cost are the sum over calls."""
        ctx.model = final_model
        ctx.usage = self.usage()
        ctx.cost_usd = self.cost_usd
        ctx.attempts += len(self.calls)
        ctx.state["routing"] = {**extra, "calls": list(self.calls), "cost_usd": self.cost_usd}


def as_stream(response: ChatResponse, include_usage: bool) -> ChunkStream:
    """Replay a finished response as chunks (cascade and ensemble decide before streaming)."""

    async def chunks() -> AsyncIterator[ChatChunk]:
        message = response.choices[0].message if response.choices else None
        yield ChatChunk(
            id=response.id,
            model=response.model,
            choices=[ChunkChoice(delta=Delta(role="assistant", content=message.content if message else ""))],
        )
        finish = response.choices[0].finish_reason if response.choices else "stop"
        yield ChatChunk(id=response.id, model=response.model, choices=[ChunkChoice(finish_reason=finish)])
        if include_usage:
            yield ChatChunk(id=response.id, model=response.model, choices=[], usage=response.usage)

    return ChunkStream(chunks())
