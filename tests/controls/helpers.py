"""Small doubles for the controls tests: a terminal handler and a pipeline around the stages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from portico.auth.access import AccessCheck
from portico.auth.controls import Controls
from portico.auth.principal import STATE_KEY
from portico.feature import Access
from portico.pipeline import ChunkStream, Pipeline, Reply, RequestContext
from portico.types import ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta, ResponseMessage, Usage


class Upstream:
    """The terminal of the chain: answers with fixed usage; optionally streams and can be cut."""

    def __init__(self, prompt_tokens: int = 20, completion_tokens: int = 10, *, cut_after: int | None = None) -> None:
        self.usage = Usage.of(prompt_tokens, completion_tokens)
        self.cut_after = cut_after
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def __call__(self, ctx: RequestContext) -> Reply:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if ctx.stream:
            return ChunkStream(self._chunks(ctx))
        ctx.usage = self.usage
        return ChatResponse(
            model=ctx.model, choices=[Choice(message=ResponseMessage(content="hello"))], usage=self.usage
        )

    async def _chunks(self, ctx: RequestContext) -> AsyncIterator[ChatChunk]:
        for i in range(5):
            if self.cut_after is not None and i == self.cut_after:
                raise ConnectionResetError("upstream went away")
            yield ChatChunk(id="c", model=ctx.model, choices=[ChunkChoice(delta=Delta(content="abcd"))])
        ctx.usage = self.usage
        yield ChatChunk(id="c", model=ctx.model, usage=self.usage)


def make_ctx(
    key: str | None,
    model: str = "gpt-4o",
    *,
    stream: bool = False,
    max_tokens: int | None = 100,
    header: str = "authorization",
    rid: str | None = None,
    **req: Any,
) -> RequestContext:
    headers = {}
    if key is not None:
        headers[header] = f"Bearer {key}" if header == "authorization" else key
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "hi there"}],
        "stream": stream,
        **req,
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    import uuid

    return RequestContext(
        request_id=rid or "req-" + uuid.uuid4().hex, request=ChatRequest.model_validate(body), headers=headers
    )


class Door:
    """What the server does for a keyed route: the access check, then the controls' stages."""

    def __init__(self, controls: Controls, upstream: Upstream) -> None:
        self.access = AccessCheck(controls.master_key, controls.resolver, on_refused=controls.record_refusal)
        self.pipeline = Pipeline([controls.accounting, controls.permission, controls.admission], upstream)

    async def __call__(self, ctx: RequestContext) -> Reply:
        grant = await self.access.check(Access.KEY, ctx.headers, ctx.request_id, "POST /v1/chat/completions")
        ctx.caller = grant.caller
        if grant.principal is not None:
            ctx.state[STATE_KEY] = grant.principal
        return await self.pipeline(ctx)


def pipeline(controls: Controls, upstream: Upstream) -> Door:
    return Door(controls, upstream)


async def drain(reply: Reply, ctx: RequestContext) -> str:
    """Consume a stream the way the server does (close hooks included)."""
    assert isinstance(reply, ChunkStream)
    text, error = "", None
    try:
        async for chunk in reply:
            text += chunk.text
    except Exception as exc:
        error = exc
    await reply.close(ctx, error)
    return text
