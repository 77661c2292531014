"""EchoProvider: a deterministic, dependency-free provider for tests and demos (public API)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from portico.providers.base import approx_tokens
from portico.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    Usage,
    new_completion_id,
)


class EchoProvider:
    """Answers with the last user message (prefixed by ``prefix``), token by word."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.calls = 0

    def _answer(self, req: ChatRequest) -> tuple[str, Usage]:
        text = self.prefix + req.last_user_text()
        words = text.split(" ")
        if req.output_limit is not None:
            words = words[: req.output_limit]
        answer = " ".join(words)
        return answer, Usage.of(approx_tokens(req.prompt_text()), len(words) if answer else 0)

    async def chat(self, req: ChatRequest, model: str) -> ChatResponse:
        self.calls += 1
        answer, usage = self._answer(req)
        return ChatResponse(model=req.model, choices=[Choice(message=ResponseMessage(content=answer))], usage=usage)

    async def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        self.calls += 1
        answer, usage = self._answer(req)
        cid = new_completion_id()
        yield ChatChunk(id=cid, model=req.model, choices=[ChunkChoice(delta=Delta(role="assistant", content=""))])
        for i, word in enumerate(answer.split(" ") if answer else []):
            yield ChatChunk(
                id=cid, model=req.model, choices=[ChunkChoice(delta=Delta(content=(" " if i else "") + word))]
            )
        yield ChatChunk(id=cid, model=req.model, choices=[ChunkChoice(finish_reason="stop")])
        yield ChatChunk(id=cid, model=req.model, usage=usage)

    async def aclose(self) -> None:
        return None
