"""cache_feature on a real Gateway (echo provider): hits through the gateway's own pipeline."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from portico.cache import CacheSettings
from portico.cache.wiring import cache_feature
from portico.config import settings_from_dict
from portico.gateway import Gateway
from portico.pipeline import RequestContext
from portico.types import ChatMessage, ChatRequest, ChatResponse


def ask(text: str) -> RequestContext:
    request = ChatRequest(model="echo", temperature=0, messages=[ChatMessage(role="user", content=text)])
    return RequestContext(request_id=uuid.uuid4().hex, request=request)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_gateway_serves_hits(backend: str) -> None:
    settings = settings_from_dict(
        {"models": [{"name": "echo", "provider": "echo"}], "embeddings": {"enabled": False}}, env={}
    )
    gateway = Gateway(settings)
    prefix = f"portico-test:{uuid.uuid4().hex}:"
    feature = cache_feature(
        CacheSettings(enabled=True, backend=backend, key_prefix=prefix),
        price=gateway.price_of,
        embedder=gateway.embedder,
    )
    assert feature is not None
    gateway.add(feature)
    assert gateway.stages == feature.stages and len(feature.stages) == 1
    await gateway.start()
    try:
        first = ask("What is the capital of France?")
        reply = await gateway.handle(first)
        assert isinstance(reply, ChatResponse) and first.cache_status == "miss"
        again = ask("What is the capital of France?")
        hit = await gateway.handle(again)
        assert isinstance(hit, ChatResponse) and hit.text == reply.text
        assert again.cache_status == "exact"
        spaced = ask("what is the capital of france")
        await gateway.handle(spaced)
        assert spaced.cache_status.startswith("semantic; similarity=")
    finally:
        await gateway.stop()
        cleaner = aioredis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = [k async for k in cleaner.scan_iter(match=prefix + "*")]
        if keys:
            await cleaner.delete(*keys)
        await cleaner.aclose()


def test_nothing_installed_when_disabled() -> None:
    settings = settings_from_dict({"models": [{"name": "echo", "provider": "echo"}]}, env={})
    gateway = Gateway(settings)
    assert cache_feature(CacheSettings(enabled=False), price=gateway.price_of, embedder=gateway.embedder) is None
