"""A programmable fake LLM upstream: a real HTTP server on loopback that speaks the OpenAI
and Anthropic wire formats and injects faults. Public API, for testing your own configs.

    async with FakeUpstream(reply="Paris.") as up:
        up.push(Behaviour(kind="status", status=429, retry_after=1))
        ... point a provider at up.base_url (OpenAI) or up.url (Anthropic) ...

Other processes can script it over HTTP: ``POST /_control/script`` with
``{"queue": [{...}], "default": {...}}`` and read ``GET /_control/stats``.
Run standalone: ``python -m portico.testing.fake_upstream --port 18000``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from portico.testing.faults import Behaviour, Script

_OPENAI_STREAM_ERROR = (
    b'data: {"error": {"message": "injected stream error", "type": "server_error", "param": null, "code": null}}\n\n'
)


@dataclass(slots=True)
class _Reply:
    """What one answer is made of: the request body, the scripted behaviour, text and usage."""

    body: dict[str, Any]
    behaviour: Behaviour
    text: str
    model: str
    prompt: int
    completion: int


@dataclass(slots=True)
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(slots=True)
class FailureMix:
    """Random faults at a given rate (for load tests): ``rate`` of requests get one of ``kinds``."""

    rate: float
    kinds: list[Behaviour] = field(default_factory=list)
    seed: int = 0


class FakeUpstream:
    def __init__(
        self,
        reply: str = "Hello from the fake upstream.",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        chunks: int = 5,
    ) -> None:
        self.reply = reply
        self.host = host
        self.port = port
        self.chunks = chunks
        self.script = Script(default=Behaviour(delay=delay))
        self.mix: FailureMix | None = None
        self._rng = random.Random(0)
        self.requests: list[Received] = []
        self.served = 0
        self.in_flight = 0
        self.disconnects = 0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.record = True

    # ---- scripting --------------------------------------------------------------------
    def push(self, *behaviours: Behaviour) -> None:
        """Queue one-shot behaviours for the next requests, in order."""
        self.script.queue.extend(behaviours)

    def set_default(self, behaviour: Behaviour) -> None:
        self.script.default = behaviour

    def set_failure_mix(self, mix: FailureMix | None) -> None:
        self.mix = mix
        if mix is not None:
            self._rng = random.Random(mix.seed)

    def _next(self) -> Behaviour:
        if self.script.queue:
            return self.script.next()
        if self.mix is not None and self.mix.kinds and self._rng.random() < self.mix.rate:
            return self._rng.choice(self.mix.kinds)
        return self.script.default

    # ---- addresses ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    # ---- lifecycle ----------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        app.router.add_post("/_control/script", self._control_script)
        app.router.add_get("/_control/stats", self._control_stats)
        return app

    async def start(self) -> FakeUpstream:
        # A short shutdown timeout: handlers that hang on purpose must not hold up stop().
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeUpstream:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self) -> FakeUpstream:
        """Serve from a background thread with its own loop (for synchronous tests)."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-upstream", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    # ---- handlers -----------------------------------------------------------------------
    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "fake"}]})

    async def _control_script(self, request: web.Request) -> web.Response:
        data = await request.json()
        self.script.queue = [Behaviour.from_dict(b) for b in data.get("queue", [])]
        if "default" in data:
            self.script.default = Behaviour.from_dict(data["default"])
        if "failure_rate" in data:
            kinds = [Behaviour.from_dict(b) for b in data.get("failure_kinds", [])]
            self.set_failure_mix(FailureMix(float(data["failure_rate"]), kinds, int(data.get("seed", 0))))
        return web.json_response({"ok": True})

    async def _control_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "served": self.served,
                "received": len(self.requests),
                "in_flight": self.in_flight,
                "disconnects": self.disconnects,
            }
        )

    async def _read(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        body = orjson.loads(raw) if raw else {}
        if self.record:
            self.requests.append(Received(request.path, body, dict(request.headers)))
        return body if isinstance(body, dict) else {}

    def _answer_text(self, body: dict[str, Any], b: Behaviour) -> str:
        return b.reply if b.reply is not None else self.reply

    def _usage(self, text: str, b: Behaviour) -> tuple[int, int]:
        return b.usage or (10, max(1, len(text.split())))

    async def _wait(self, request: web.Request, seconds: float) -> None:
        """Sleep ``seconds``, or until the client closes the connection (counted in ``disconnects``)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            transport = request.transport
            if transport is None or transport.is_closing():
                self.disconnects += 1
                raise ConnectionResetError("the client went away")
            await asyncio.sleep(min(0.05, left))  # aiohttp does not cancel a handler when its client leaves

    async def _pre(self, request: web.Request, b: Behaviour, anthropic: bool) -> web.StreamResponse | None:
        """Handle the faults that happen before any byte of the answer."""
        if b.delay:
            await self._wait(request, b.delay)
        if b.kind == "hang":
            await self._wait(request, 3600)
        if b.kind == "reset":
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise ConnectionResetError("injected reset")
        if b.kind == "status":
            headers = {"retry-after": str(b.retry_after)} if b.retry_after is not None else {}
            if anthropic:
                etype = {429: "rate_limit_error", 529: "overloaded_error", 400: "invalid_request_error"}.get(
                    b.status, "api_error"
                )
                body: dict[str, Any] = {"type": "error", "error": {"type": etype, "message": b.message}}
            else:
                body = {
                    "error": {
                        "message": b.message,
                        "type": "server_error" if b.status >= 500 else "invalid_request_error",
                        "param": None,
                        "code": b.error_code,
                    }
                }
            return web.json_response(body, status=b.status, headers=headers)
        if b.kind == "malformed":
            return web.Response(body=b"{this is not json", content_type="application/json")
        return None

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, anthropic=False)

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, anthropic=True)

    async def _serve(self, request: web.Request, *, anthropic: bool) -> web.StreamResponse:
        self.in_flight += 1
        try:
            body = await self._read(request)
            b = self._next()
            early = await self._pre(request, b, anthropic=anthropic)
            if early is not None:
                return early
            text = self._answer_text(body, b)
            prompt, completion = self._usage(text, b)
            model = str(body.get("model", "fake"))
            answer = self._anthropic_answer if anthropic else self._openai_answer
            return await answer(request, _Reply(body, b, text, model, prompt, completion))
        finally:
            self.in_flight -= 1

    async def _openai_answer(self, request: web.Request, r: _Reply) -> web.StreamResponse:
        body, text, model, prompt, completion = r.body, r.text, r.model, r.prompt, r.completion
        cid = f"chatcmpl-fake{next(self._ids)}"
        finish = "tool_calls" if r.behaviour.tool_calls else "stop"
        if not body.get("stream"):
            self.served += 1
            return web.json_response(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": _openai_message(text, r.behaviour), "finish_reason": finish}],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    },
                },
                dumps=lambda o: orjson.dumps(o).decode(),
            )
        return await self._openai_stream(request, r, cid)

    def _pieces(self, text: str) -> list[str]:
        words = text.split(" ")
        n = max(1, min(self.chunks, len(words)))
        size = -(-len(words) // n)
        return [(" " if i else "") + " ".join(words[i : i + size]) for i in range(0, len(words), size)]

    async def _openai_stream(self, request: web.Request, r: _Reply, cid: str) -> web.StreamResponse:
        body, b, text, model, prompt, completion = r.body, r.behaviour, r.text, r.model, r.prompt, r.completion
        resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
        await resp.prepare(request)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return (
                b"data: "
                + orjson.dumps(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                )
                + b"\n\n"
            )

        events = [chunk({"role": "assistant", "content": ""})]
        if b.tool_calls:
            for i, call in enumerate(b.tool_calls):
                head = {"index": i, "id": f"call_fake{i}", "type": "function"}
                events.append(chunk({"tool_calls": [{**head, "function": {"name": call["name"], "arguments": ""}}]}))
                for piece in _split(call.get("arguments", "{}")):
                    events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
            events.append(chunk({}, "tool_calls"))
        else:
            events += [chunk({"content": p}) for p in self._pieces(text)]
            events.append(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(
                b"data: "
                + orjson.dumps(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": completion,
                            "total_tokens": prompt + completion,
                        },
                    }
                )
                + b"\n\n"
            )
        events.append(b"data: [DONE]\n\n")
        await self._emit(
            request,
            resp,
            events,
            b,
            error_payload=_OPENAI_STREAM_ERROR,
        )
        return resp

    async def _emit(
        self, request: web.Request, resp: web.StreamResponse, events: list[bytes], b: Behaviour, error_payload: bytes
    ) -> None:
        try:
            for i, event in enumerate(events):
                if b.kind in ("cut_stream", "stall_stream", "error_event") and i == b.after_chunks:
                    if b.kind == "cut_stream":
                        if request.transport is not None:
                            request.transport.abort()
                        return
                    if b.kind == "stall_stream":
                        await asyncio.sleep(3600)
                    await resp.write(error_payload)
                    await resp.write_eof()
                    return
                if b.chunk_delay and i:
                    await asyncio.sleep(b.chunk_delay)
                await resp.write(event)
            await resp.write_eof()
            self.served += 1
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            raise

    async def _anthropic_answer(self, request: web.Request, r: _Reply) -> web.StreamResponse:
        body, b, text, model, prompt, completion = r.body, r.behaviour, r.text, r.model, r.prompt, r.completion
        mid = f"msg_fake{next(self._ids)}"
        if not body.get("stream"):
            self.served += 1
            return web.json_response(
                {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": _anthropic_blocks(text, b),
                    "stop_reason": "tool_use" if b.tool_calls else "end_turn",
                    "stop_sequence": None,
                    "usage": {"input_tokens": prompt, "output_tokens": completion},
                }
            )
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)

        def ev(name: str, data: dict[str, Any]) -> bytes:
            return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

        events = [
            ev(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": mid,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "usage": {"input_tokens": prompt, "output_tokens": 1},
                    },
                },
            ),
            ev("ping", {"type": "ping"}),
            *(self._anthropic_tool_events(b, ev) if b.tool_calls else self._anthropic_text_events(text, ev)),
            ev(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "tool_use" if b.tool_calls else "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": completion},
                },
            ),
            ev("message_stop", {"type": "message_stop"}),
        ]
        err = ev("error", {"type": "error", "error": {"type": "overloaded_error", "message": "injected stream error"}})
        await self._emit(request, resp, events, b, error_payload=err)
        return resp

    def _anthropic_text_events(self, text: str, ev: Any) -> list[bytes]:
        start = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        deltas = [
            ev(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            )
            for p in self._pieces(text)
        ]
        return [
            ev("content_block_start", start),
            *deltas,
            ev("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ]

    @staticmethod
    def _anthropic_tool_events(b: Behaviour, ev: Any) -> list[bytes]:
        out = []
        for i, call in enumerate(b.tool_calls or []):
            block = {"type": "tool_use", "id": f"toolu_fake{i}", "name": call["name"], "input": {}}
            out.append(ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": block}))
            for piece in _split(call.get("arguments", "{}")):
                delta = {"type": "input_json_delta", "partial_json": piece}
                out.append(ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}))
            out.append(ev("content_block_stop", {"type": "content_block_stop", "index": i}))
        return out


def _split(text: str, parts: int = 3) -> list[str]:
    """``text`` in ``parts`` pieces (a tool call's arguments arrive split across chunks)."""
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _openai_message(text: str, b: Behaviour) -> dict[str, Any]:
    if not b.tool_calls:
        return {"role": "assistant", "content": text}
    calls = [
        {
            "id": f"call_fake{i}",
            "type": "function",
            "function": {"name": c["name"], "arguments": c.get("arguments", "{}")},
        }
        for i, c in enumerate(b.tool_calls)
    ]
    return {"role": "assistant", "content": None, "tool_calls": calls}


def _anthropic_blocks(text: str, b: Behaviour) -> list[dict[str, Any]]:
    if not b.tool_calls:
        return [{"type": "text", "text": text}]
    return [
        {
            "type": "tool_use",
            "id": f"toolu_fake{i}",
            "name": c["name"],
            "input": orjson.loads(c.get("arguments") or "{}"),
        }
        for i, c in enumerate(b.tool_calls)
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Portico's fake LLM upstream (OpenAI + Anthropic wire formats).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18000)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--reply", default="Hello from the fake upstream.")
    args = parser.parse_args(argv)
    up = FakeUpstream(args.reply, host=args.host, port=args.port, delay=args.delay_ms / 1000)
    web.run_app(up.app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
