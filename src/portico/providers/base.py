"""The Provider seam: one wire protocol per implementation, injected HTTP clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from portico.types import ChatChunk, ChatRequest, ChatResponse


@runtime_checkable
class Provider(Protocol):
    """Talks to one deployment. ``model`` is the upstream model id to ask for."""

    async def chat(self, req: ChatRequest, model: str) -> ChatResponse: ...

    def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ReadinessProbe(Protocol):
    """Optional: a provider that needs start-up work (loading weights) reports readiness."""

    async def start(self) -> None: ...

    @property
    def ready(self) -> bool: ...


def approx_tokens(text: str) -> int:
    """A cheap token estimate (~4 characters per token) for admission and fallback usage."""
    return max(1, (len(text) + 3) // 4) if text else 0
