"""Shared fixtures: config builders, a fake upstream, and gateways served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from portico.server import create_app
from portico.testing import FakeUpstream, make_settings, serve_in_thread


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(reply="Paris is the capital of France.") as up:
        yield up


@pytest.fixture
def thread_upstream() -> Iterator[FakeUpstream]:
    up = FakeUpstream(reply="Paris is the capital of France.").start_in_thread()
    try:
        yield up
    finally:
        up.stop_thread()


@pytest.fixture
def served(thread_upstream: FakeUpstream) -> Iterator[tuple[str, FakeUpstream]]:
    """A gateway on a loopback port with `gpt` (OpenAI wire) and `claude` (Anthropic wire) models."""
    settings = make_settings(
        [
            {
                "name": "gpt",
                "provider": "openai",
                "base_url": thread_upstream.base_url,
                "api_key": "sk-upstream-secret-1",
                "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
                "timeout": {"first_token": 2, "inter_token": 2, "total": 10},
            },
            {
                "name": "claude",
                "provider": "anthropic",
                "base_url": thread_upstream.url,
                "api_key": "sk-ant-secret-2",
                "model": "claude-3-5-haiku-latest",
                "timeout": {"first_token": 2, "inter_token": 2, "total": 10},
            },
            {"name": "echo", "provider": "echo"},
        ],
        server={"max_body_bytes": 64 * 1024},
        # one attempt per request: these tests check how each single failure is mapped
        resilience={"enabled": False},
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url, thread_upstream
