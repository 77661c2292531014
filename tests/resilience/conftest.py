"""Resilience fixtures: fake upstreams on loopback, a dead port, a steppable clock, caller builders."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from portico.config import Settings, settings_from_dict
from portico.pipeline import RequestContext
from portico.resilience import ModelCaller, build_deployments
from portico.testing import FakeUpstream
from portico.types import ChatMessage, ChatRequest

REPLY = "one two three four five six seven eight nine ten"
FAST = {"connect": 1.0, "first_token": 0.4, "inter_token": 0.4, "total": 5.0}


class FakeClock:
    """A monotonic clock the test steps; ``sleep`` advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def openai(name: str, base_url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "provider": "openai", "base_url": base_url, "timeout": FAST, **extra}


def settings(models: list[dict[str, Any]], resilience: dict[str, Any] | None = None, **sections: Any) -> Settings:
    raw = {"models": models, "embeddings": {"enabled": False}, "resilience": resilience or {}, **sections}
    return settings_from_dict(raw, env={})


def request(model: str = "m", text: str = "hello", *, stream: bool = False) -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage(role="user", content=text)], stream=stream)


def context(model: str = "m", text: str = "hello", *, stream: bool = False) -> RequestContext:
    return RequestContext(request_id="req-test", request=request(model, text, stream=stream))


@pytest.fixture
async def ups() -> AsyncIterator[list[FakeUpstream]]:
    """Three fake OpenAI upstreams on loopback ports.

    Served by our own runner with a short shutdown timeout: a handler that hangs on purpose
    (hang, stall_stream) would otherwise hold the teardown for aiohttp's default minute."""
    runners: list[web.AppRunner] = []
    started: list[FakeUpstream] = []
    for _ in range(3):
        up = FakeUpstream(reply=REPLY)
        runner = web.AppRunner(up.app(), access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        up.port = runner.addresses[0][1]
        runners.append(runner)
        started.append(up)
    try:
        yield started
    finally:
        for runner in runners:
            await runner.cleanup()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_caller(clock: FakeClock) -> AsyncIterator[Any]:
    """``make_caller(settings)`` -> ModelCaller on the fake clock; providers closed afterwards."""
    made: list[ModelCaller] = []

    def build(s: Settings, **kw: Any) -> ModelCaller:
        kw.setdefault("clock", clock)
        kw.setdefault("sleep", clock.sleep)
        caller = ModelCaller(build_deployments(s), s.resilience, **kw)
        made.append(caller)
        return caller

    yield build
    for caller in made:
        for d in caller.all_deployments():
            await d.provider.aclose()
