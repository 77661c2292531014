"""Fixtures for the cache tests: both backends, a bag-of-words embedder and a counting upstream."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pytest
import redis.asyncio as aioredis

from portico.cache import MemoryExactStore, MemoryVectorStore
from portico.cache.redis_backend import RedisExactStore, RedisVectorStore
from portico.pipeline import ChunkStream, Reply, RequestContext
from portico.types import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    Usage,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
BACKENDS = ["memory", "redis"]


class BagOfWordsEmbedder:
    """Deterministic unit vectors from hashed words: same words, same vector; fast, no model."""

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace("?", " ").split():
                out[row, int(hashlib.md5(word.encode()).hexdigest()[:6], 16) % 384] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out


@dataclass
class Backends:
    exact: MemoryExactStore | RedisExactStore
    vectors: MemoryVectorStore | RedisVectorStore
    # A second replica's view of the same shared state (the same objects for memory).
    make_replica: Callable[[], tuple[MemoryExactStore | RedisExactStore, MemoryVectorStore | RedisVectorStore]]
    prefix: str = ""


@pytest.fixture(params=BACKENDS)
async def backends(request: pytest.FixtureRequest) -> AsyncIterator[Backends]:
    if request.param == "memory":
        exact, vectors = MemoryExactStore(100), MemoryVectorStore(100, ann_min_entries=1000)
        yield Backends(exact, vectors, lambda: (exact, vectors))
        return
    prefix = f"portico-test:{uuid.uuid4().hex}:"
    clients: list[aioredis.Redis] = []

    def replica() -> tuple[RedisExactStore, RedisVectorStore]:
        client = aioredis.Redis.from_url(REDIS_URL)
        clients.append(client)
        return RedisExactStore(client, prefix, 100), RedisVectorStore(client, prefix, 100, ann_min_entries=1000)

    exact, vectors = replica()
    yield Backends(exact, vectors, replica, prefix)
    cleaner = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in cleaner.scan_iter(match=prefix + "*")]
    if keys:
        await cleaner.delete(*keys)
    await cleaner.aclose()
    for client in clients:
        await client.aclose()


def chat(text: str, **params: object) -> ChatRequest:
    params.setdefault("temperature", 0)
    return ChatRequest(model="m1", messages=[ChatMessage(role="user", content=text)], **params)  # type: ignore[arg-type]


def context(request: ChatRequest, key_id: str = "k1", headers: dict[str, str] | None = None) -> RequestContext:
    ctx = RequestContext(request_id=uuid.uuid4().hex, request=request, headers=dict(headers or {}))
    ctx.caller.key_id = key_id
    return ctx


@dataclass
class CountingUpstream:
    """The terminal call: answers "answer N to <question>", counts calls; ``stream`` follows the request."""

    calls: int = 0
    fail_stream_after: int | None = None
    seen: list[str] = field(default_factory=list)

    async def __call__(self, ctx: RequestContext) -> Reply:
        self.calls += 1
        question = ctx.request.last_user_text()
        self.seen.append(question)
        text = f"answer {self.calls} to {question}"
        if ctx.stream:
            return ChunkStream(self._chunks(text))
        ctx.usage = Usage.of(10, 5)
        return ChatResponse(
            model=ctx.model,
            choices=[Choice(message=ResponseMessage(content=text), finish_reason="stop")],
            usage=Usage.of(10, 5),
        )

    async def _chunks(self, text: str) -> AsyncIterator[ChatChunk]:
        yield ChatChunk(id="c1", model="m1", choices=[ChunkChoice(delta=Delta(role="assistant", content=""))])
        for i, word in enumerate(text.split(" ")):
            if self.fail_stream_after is not None and i >= self.fail_stream_after:
                raise ConnectionResetError("upstream went away")
            yield ChatChunk(
                id="c1",
                model="m1",
                choices=[ChunkChoice(delta=Delta(content=("" if i == 0 else " ") + word))],
            )
        yield ChatChunk(id="c1", model="m1", choices=[ChunkChoice(finish_reason="stop")])
        yield ChatChunk(id="c1", model="m1", choices=[], usage=Usage.of(10, 5))


async def drain(reply: Reply, ctx: RequestContext) -> str:
    """Read a streamed reply to the end the way the server does, closing it (runs on_close hooks)."""
    assert isinstance(reply, ChunkStream)
    text: list[str] = []
    error: BaseException | None = None
    try:
        async for chunk in reply:
            text.append(chunk.text)
    except Exception as exc:
        error = exc
    await reply.close(ctx, error)
    if error is not None:
        raise error
    return "".join(text)
