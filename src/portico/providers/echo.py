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

    def _answer(self, req: ChatRequest) -> tuple[str, Usage, str]:
        text = self.prefix + req.last_user_text()
        words = text.split(" ")
        finish = "stop"
        if req.output_limit is not None and len(words) > req.output_limit:
            words, finish = words[: req.output_limit], "length"
        answer = " ".join(words)
        return answer, Usage.of(approx_tokens(req.prompt_text()), len(words) if answer else 0), finish

    async def chat(self, req: ChatRequest, model: str) -> ChatResponse:
        self.calls += 1
        answer, usage, finish = self._answer(req)
        choice = Choice(message=ResponseMessage(content=answer), finish_reason=finish)
        return ChatResponse(model=req.model, choices=[choice], usage=usage)

    async def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        self.calls += 1
        answer, usage, finish = self._answer(req)
        cid = new_completion_id()
        yield ChatChunk(id=cid, model=req.model, choices=[ChunkChoice(delta=Delta(role="assistant", content=""))])
        for i, word in enumerate(answer.split(" ") if answer else []):
            yield ChatChunk(
                id=cid, model=req.model, choices=[ChunkChoice(delta=Delta(content=(" " if i else "") + word))]
            )
        yield ChatChunk(id=cid, model=req.model, choices=[ChunkChoice(finish_reason=finish)])
        yield ChatChunk(id=cid, model=req.model, usage=usage)

    async def aclose(self) -> None:
        return None
