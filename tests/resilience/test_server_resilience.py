"""Through the real server: SSE error events, failover before the first byte, disconnects, headers, admin."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from portico.assembly import assemble
from portico.config import Settings
from portico.feature import Feature
from portico.pipeline import ChunkStream, Next, Reply, RequestContext
from portico.server import create_app
from portico.testing import Behaviour, FakeUpstream, serve_in_thread

from .conftest import REPLY, openai, settings

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
STREAM = {**BODY, "stream": True, "stream_options": {"include_usage": True}}


class Capture:
    """A stage that keeps every context and signals when the request (or its stream) is finished."""

    def __init__(self) -> None:
        self.ctxs: list[RequestContext] = []
        self.closed = threading.Event()

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        self.ctxs.append(ctx)
        reply = await call_next(ctx)
        if isinstance(reply, ChunkStream):

            async def done(_ctx: RequestContext, _error: BaseException | None) -> None:
                self.closed.set()

            reply.on_close(done)
        else:
            self.closed.set()
        return reply

    async def wait(self, timeout: float = 5.0) -> RequestContext:
        assert await asyncio.to_thread(self.closed.wait, timeout), "the request never finished"
        return self.ctxs[-1]


@contextmanager
def gateway(s: Settings) -> Iterator[tuple[str, Capture]]:
    capture = Capture()
    gw = assemble(s, extra=[Feature("capture", stages=(capture,))])
    with serve_in_thread(create_app(s, gateway=gw)) as url:
        yield url, capture


def sse_events(lines: list[str]) -> list[str]:
    return [line[6:] for line in lines if line.startswith("data: ")]


async def until(cond: Callable[[], bool], timeout: float = 3.0) -> bool:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.01)  # polling a counter owned by the fake upstream
    return True


async def test_cut_after_the_first_token_ends_with_an_sse_error_event(ups: list[FakeUpstream]) -> None:
    ups[0].push(Behaviour(kind="cut_stream", after_chunks=3))
    s = settings([openai("m", ups[0].base_url, price={"output_per_mtok": 1000})])
    with gateway(s) as (url, capture):
        async with (
            httpx.AsyncClient(base_url=url, timeout=10) as client,
            client.stream("POST", "/v1/chat/completions", json=STREAM) as r,
        ):
            assert r.status_code == 200
            lines = [line async for line in r.aiter_lines()]
        ctx = await capture.wait()
    events = sse_events(lines)
    assert events[-1] != "[DONE]" and "[DONE]" not in events  # never a clean end
    error = orjson.loads(events[-1])["error"]
    assert error["code"] in ("upstream_unavailable", "stream_truncated", "upstream_error")
    assert any(orjson.loads(e).get("choices") for e in events[:-1])  # some content did go out
    assert ctx.usage is not None and ctx.usage.completion_tokens > 0  # the partial answer is accounted for
    assert ctx.cost_usd > 0 and ctx.attempts == 1 and ctx.status >= 500


async def test_failover_before_the_first_byte_is_a_clean_stream(ups: list[FakeUpstream]) -> None:
    ups[0].push(Behaviour(kind="cut_stream", after_chunks=1))
    models = [openai("m", ups[0].base_url, priority=0), openai("m", ups[1].base_url, priority=1)]
    s = settings(models, {"defaults": {"routing_strategy": "priority"}})
    with gateway(s) as (url, capture):
        async with (
            httpx.AsyncClient(base_url=url, timeout=10) as client,
            client.stream("POST", "/v1/chat/completions", json=STREAM) as r,
        ):
            assert r.status_code == 200
            assert r.headers["x-portico-attempts"] == "2"
            lines = [line async for line in r.aiter_lines()]
        await capture.wait()
    events = sse_events(lines)
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == REPLY


async def test_stream_failing_before_the_first_byte_is_an_http_error(ups: list[FakeUpstream]) -> None:
    ups[0].set_default(Behaviour(kind="status", status=503))
    s = settings([openai("m", ups[0].base_url)], {"defaults": {"retry": {"max_attempts": 2, "base_delay": 0}}})
    with gateway(s) as (url, _capture):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            r = await client.post("/v1/chat/completions", json=STREAM)
    assert r.status_code == 502 and r.headers["x-portico-attempts"] == "2"
    assert r.json()["error"]["code"] == "upstream_status_503"


async def test_client_disconnect_cancels_the_upstream_and_records_usage(ups: list[FakeUpstream]) -> None:
    ups[0].set_default(Behaviour(chunk_delay=0.3))
    s = settings([openai("m", ups[0].base_url, price={"output_per_mtok": 1000})])
    with gateway(s) as (url, capture):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            async with client.stream("POST", "/v1/chat/completions", json=STREAM) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        break  # the client goes away after its first chunk
            gone = time.monotonic()
        ctx = await capture.wait()
        closed_after = time.monotonic() - gone
        assert await until(lambda: ups[0].disconnects == 1)
        assert await until(lambda: ups[0].in_flight == 0)
    assert closed_after < 1.0  # promptly: well before the remaining ~1.5 s of chunks
    assert ctx.status == 499 and ctx.client_disconnected
    assert ctx.usage is not None and ctx.usage.completion_tokens > 0 and ctx.cost_usd > 0
    assert ups[0].served == 0  # the upstream never finished the answer


async def test_fallback_is_explained_in_the_headers(ups: list[FakeUpstream]) -> None:
    ups[0].set_default(Behaviour(kind="status", status=503))
    models = [openai("m", ups[0].base_url), openai("n", ups[1].base_url)]
    s = settings(models, {"models": {"m": {"fallbacks": ["n"], "retry": {"max_attempts": 1}}}})
    with gateway(s) as (url, _capture):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            r = await client.post("/v1/chat/completions", json=BODY)
    assert r.status_code == 200
    assert r.headers["x-portico-route"] == "n; reason=fallback from m after 503"
    assert r.headers["x-portico-attempts"] == "2"


def _storage(tmp_path: Path) -> dict[str, str]:
    """A master key turns storage on; keep its database in the test's own folder, not the working directory."""
    return {"url": f"sqlite+aiosqlite:///{tmp_path}/portico.db", "wal_dir": f"{tmp_path}/wal"}


async def test_admin_circuits_and_metrics(ups: list[FakeUpstream], tmp_path: Path) -> None:
    ups[0].set_default(Behaviour(kind="status", status=500))
    res: dict[str, Any] = {"defaults": {"retry": {"max_attempts": 1}, "breaker": {"min_requests": 2}}}
    s = settings([openai("m", ups[0].base_url)], res, auth={"master_key": "sk-master"}, storage=_storage(tmp_path))
    with gateway(s) as (url, _capture):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            auth = {"authorization": "Bearer sk-master"}
            for _ in range(2):
                assert (await client.post("/v1/chat/completions", json=BODY, headers=auth)).status_code == 502
            assert (await client.get("/admin/circuits")).status_code == 401
            assert (await client.get("/admin/circuits", headers={"authorization": "Bearer wrong"})).status_code == 401
            state = (await client.get("/admin/circuits", headers=auth)).json()
            metrics = (await client.get("/metrics", headers=auth)).text
            reset = await client.post("/admin/circuits/m%230/reset", headers=auth)
    [d] = state["deployments"]
    assert d["deployment"] == "m#0" and d["state"] == "open" and d["failures"] == 2
    assert 'portico_circuit_state{deployment="m#0",model="m"} 2.0' in metrics
    assert 'portico_attempts_total{model="m",outcome="http_5xx"} 2.0' in metrics
    assert reset.status_code == 200 and reset.json()["state"] == "closed"


def test_circuits_command_prints_the_table(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from portico.resilience.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps `circuits` a subcommand
    s = settings([openai("m", "http://127.0.0.1:9/v1")], auth={"master_key": "sk-master"}, storage=_storage(tmp_path))
    with gateway(s) as (url, _capture):
        ok = CliRunner().invoke(app, ["circuits", "--url", url, "--key", "sk-master", "--reset", "m#0"])
        denied = CliRunner().invoke(app, ["circuits", "--url", url, "--key", "wrong"])
    assert ok.exit_code == 0, ok.output
    assert "m#0" in ok.output and "closed" in ok.output
    assert denied.exit_code == 2 and "401" in denied.output
