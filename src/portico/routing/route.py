"""The routing seam: a Router turns a request into a Route (model, reason, score)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from portico.pipeline import RequestContext
from portico.types import ChatRequest, ChatResponse, Usage

ModelCaller = Callable[[RequestContext, str, ChatRequest], Awaitable[ChatResponse]]
"""Call model NAME with a request through the gateway's resilient call path."""

CostFn = Callable[[str, Usage], float]
"""USD cost of ``usage`` on model NAME (prices from config)."""


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request goes and why. ``score`` is the policy's own number (None if it has none)."""

    model: str
    reason: str
    score: float | None = None


class Router(Protocol):
    """A single-model routing policy: pure, fast, no upstream calls."""

    def decide(self, ctx: RequestContext) -> Route: ...


def no_cost(model: str, usage: Usage) -> float:
    """The cost function used when no prices are configured."""
    return 0.0
