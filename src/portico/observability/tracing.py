"""OpenTelemetry traces with the GenAI semantic conventions (imported only when tracing is on).

One trace per HTTP request:

- a SERVER span for the inbound request (``POST /v1/chat/completions``), continuing the
  client's W3C ``traceparent`` when it sent one, carrying the GenAI attributes of the request
  (``gen_ai.operation.name``, ``gen_ai.request.model``, ``gen_ai.response.model``,
  ``gen_ai.provider.name``, ``gen_ai.usage.*``) and Portico's explanation (route reason,
  cache status, guard findings, attempts, cost, overhead);
- one INTERNAL child span per stage (accounting, guards, cache, router, ...), nested as the
  stages are;
- one CLIENT span per upstream attempt (retries, fallbacks, cascade and ensemble calls), whose
  context is sent upstream as ``traceparent``.

Everything is added by wrappers (around the app, each stage and each provider) that exist
only when tracing is on: with it off, the request path runs no tracing code at all.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from portico.errors import PorticoError
from portico.feature import REQUEST_ID_KEY
from portico.observability.propagation import TRACEPARENT
from portico.observability.settings import TracingSettings
from portico.pipeline import ChunkStream, Next, Reply, RequestContext, Stage
from portico.providers import Provider
from portico.resilience.deployments import Deployment
from portico.types import ChatChunk, ChatRequest, ChatResponse

Scope = MutableMapping[str, Any]
App = Callable[[Scope, Any, Any], Awaitable[None]]
_STAGE_NAME = re.compile(r"(?<!^)(?=[A-Z])")


def traceparent(span: Span) -> str | None:
    """The W3C ``traceparent`` header value naming ``span`` as the parent."""
    c = span.get_span_context()
    if not c.is_valid:
        return None
    return f"00-{c.trace_id:032x}-{c.span_id:016x}-{int(c.trace_flags):02x}"


def stage_name(stage: object) -> str:
    """``GuardStage`` -> ``guard``, ``AccountingStage`` -> ``accounting``."""
    name = type(stage).__name__.removesuffix("Stage") or type(stage).__name__
    return _STAGE_NAME.sub("_", name).lower()


def _error(span: Span, exc: BaseException) -> None:
    if isinstance(exc, PorticoError):
        span.set_attribute("error.type", exc.code or type(exc).__name__)
        span.set_status(Status(StatusCode.ERROR, exc.message))
    else:
        span.set_attribute("error.type", type(exc).__name__)
        span.set_status(Status(StatusCode.ERROR))


class Tracing:
    """The tracer and the wrappers that put it on the request path."""

    def __init__(self, tracer: Tracer, provider: TracerProvider | None = None) -> None:
        self.tracer = tracer
        self.provider = provider
        self._propagator = TraceContextTextMapPropagator()
        self._kinds: dict[str, str] = {}  # deployment id -> provider kind (gen_ai.provider.name)

    @classmethod
    def from_settings(cls, settings: TracingSettings, *, exporter: SpanExporter | None = None) -> Tracing:
        """An SDK tracer exporting over OTLP/HTTP (or to ``exporter``, synchronously: tests).
        The provider is this gateway's own, not OpenTelemetry's global one."""
        provider = TracerProvider(
            resource=Resource.create({"service.name": settings.service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
        )
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            otlp = OTLPSpanExporter(
                endpoint=settings.endpoint, headers=dict(settings.headers), timeout=settings.timeout_s
            )
            provider.add_span_processor(BatchSpanProcessor(otlp))
        return cls(provider.get_tracer("portico"), provider)

    async def shutdown(self) -> None:
        """Export what is buffered and stop (at gateway stop)."""
        if self.provider is not None:
            self.provider.shutdown()

    # ---- the inbound request ------------------------------------------------------------
    async def serve(self, scope: Scope, receive: Any, send: Any, app: App) -> None:
        """Run ``app`` for one HTTP request inside its SERVER span."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        parent = self._propagator.extract(headers)
        method, path = scope["method"], scope["path"]
        attributes: dict[str, Any] = {"http.request.method": method, "url.path": path, "url.scheme": scope["scheme"]}
        if scope.get("server"):
            attributes["server.address"], attributes["server.port"] = scope["server"][0], scope["server"][1]
        if "user-agent" in headers:
            attributes["user_agent.original"] = headers["user-agent"]
        with self.tracer.start_as_current_span(
            f"{method} {path}", context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            status = 0

            async def send_(message: Mapping[str, Any]) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                await send(message)

            await app(scope, receive, send_)
            if REQUEST_ID_KEY in scope:
                span.set_attribute("portico.request_id", scope[REQUEST_ID_KEY])
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
                span.set_attribute("error.type", str(status))

    # ---- stages ---------------------------------------------------------------------------
    def wrap_stages(self, stages: Sequence[Stage], deployments: Iterable[Deployment]) -> list[Stage]:
        """The chain with a span around each stage, and the request's GenAI attributes set
        on the SERVER span by an outermost recorder."""
        self._kinds.update({d.id: d.settings.provider for d in deployments})
        return [_RequestAttributes(self), *(_TracedStage(s, self.tracer) for s in stages)]

    def provider_kind(self, deployment: str) -> str | None:
        return self._kinds.get(deployment)

    # ---- upstream calls -------------------------------------------------------------------
    def wrap_providers(self, deployments: Iterable[Deployment]) -> None:
        """Put a CLIENT span around every call to every deployment's provider."""
        for d in deployments:
            if not isinstance(d.provider, TracedProvider):
                d.provider = TracedProvider(d.provider, self.tracer, d)
            self._kinds[d.id] = d.settings.provider


class _TracedStage:
    def __init__(self, stage: Stage, tracer: Tracer) -> None:
        self.stage = stage
        self.tracer = tracer
        self.name = stage_name(stage)

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        with self.tracer.start_as_current_span(
            f"portico.{self.name}",
            attributes={"portico.stage": self.name},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await self.stage(ctx, call_next)
            except BaseException as exc:
                _error(span, exc)
                raise


class _RequestAttributes:
    """Outermost: once the request is answered (a stream: once it ends), puts the GenAI
    attributes and Portico's explanation on the SERVER span."""

    def __init__(self, tracing: Tracing) -> None:
        self.tracing = tracing

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Reply:
        span = trace.get_current_span()
        span.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.request.model": ctx.model_requested})
        try:
            reply = await call_next(ctx)
        except BaseException as exc:
            self._finish(span, ctx, exc)
            raise
        if isinstance(reply, ChunkStream):

            async def at_end(c: RequestContext, error: BaseException | None) -> None:
                self._finish(span, c, error)

            reply.on_close(at_end)
        else:
            self._finish(span, ctx, None)
        return reply

    def _finish(self, span: Span, ctx: RequestContext, error: BaseException | None) -> None:
        attrs: dict[str, Any] = {
            "gen_ai.response.model": ctx.model,
            "portico.route.reason": ctx.route_reason,
            "portico.cache.status": ctx.cache_status,
            "portico.attempts": ctx.attempts,
            "portico.cost_usd": ctx.cost_usd,
            "portico.overhead_ms": round(ctx.overhead_seconds() * 1000, 3),
            "portico.upstream_ms": round(ctx.upstream_seconds * 1000, 3),
        }
        kind = self.tracing.provider_kind(ctx.deployment)
        if kind:
            attrs["gen_ai.provider.name"] = kind
        if ctx.deployment:
            attrs["portico.deployment"] = ctx.deployment
        if ctx.usage is not None:
            attrs["gen_ai.usage.input_tokens"] = ctx.usage.prompt_tokens
            attrs["gen_ai.usage.output_tokens"] = ctx.usage.completion_tokens
        if ctx.findings:
            attrs["portico.guard.findings"] = [f"{f.guard}:{f.action}" for f in ctx.findings]
        if ctx.caller.key_id:
            attrs["portico.key_id"] = ctx.caller.key_id
        if ctx.request.stream:
            attrs["gen_ai.request.stream"] = True
        span.set_attributes(attrs)
        if error is not None:
            _error(span, error)


class TracedProvider:
    """A provider with a CLIENT span around each call: one span per upstream attempt."""

    def __init__(self, inner: Provider, tracer: Tracer, deployment: Deployment) -> None:
        self.inner = inner
        self.tracer = tracer
        self.attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": deployment.settings.provider,
            "portico.deployment": deployment.id,
        }
        base_url = getattr(deployment.settings, "base_url", None)
        if base_url:
            parts = urlsplit(str(base_url))
            if parts.hostname:
                self.attributes["server.address"] = parts.hostname
                self.attributes["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)

    def __getattr__(self, name: str) -> Any:
        # optional capabilities (readiness, queue depth, embeddings) are the inner provider's
        return getattr(self.inner, name)

    def _start(self, model: str, req: ChatRequest) -> Span:
        attrs = {**self.attributes, "gen_ai.request.model": model}
        if req.max_tokens is not None:
            attrs["gen_ai.request.max_tokens"] = req.max_tokens
        if req.temperature is not None:
            attrs["gen_ai.request.temperature"] = req.temperature
        return self.tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attrs)

    async def chat(self, req: ChatRequest, model: str) -> ChatResponse:
        span = self._start(model, req)
        previous = TRACEPARENT.get()
        TRACEPARENT.set(traceparent(span))
        try:
            response = await self.inner.chat(req, model)
        except BaseException as exc:
            _error(span, exc)
            span.end()
            raise
        finally:
            TRACEPARENT.set(previous)
        _respond(span, response.model, response.id, response.usage.prompt_tokens, response.usage.completion_tokens)
        span.end()
        return response

    def stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        return self._stream(req, model)

    async def _stream(self, req: ChatRequest, model: str) -> AsyncIterator[ChatChunk]:
        span = self._start(model, req)
        chunks = self.inner.stream(req, model)
        served, rid, usage, first = model, "", None, True
        try:
            while True:
                if first:  # the upstream request is sent on the first read: it carries the traceparent
                    previous = TRACEPARENT.get()
                    TRACEPARENT.set(traceparent(span))
                    try:
                        chunk = await anext(chunks, None)
                    finally:
                        TRACEPARENT.set(previous)
                    if chunk is not None:
                        span.add_event("gen_ai.first_token", timestamp=time.time_ns())
                    first = False
                else:
                    chunk = await anext(chunks, None)
                if chunk is None:
                    break
                served, rid = chunk.model or served, chunk.id or rid
                if chunk.usage is not None:
                    usage = chunk.usage
                yield chunk
        except GeneratorExit:  # the consumer stopped reading (a hedge lost, the client left)
            raise
        except BaseException as exc:
            _error(span, exc)
            raise
        finally:
            _respond(span, served, rid, *((usage.prompt_tokens, usage.completion_tokens) if usage else (None, None)))
            span.end()
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    async def aclose(self) -> None:
        await self.inner.aclose()


def _respond(span: Span, model: str, rid: str, tokens_in: int | None, tokens_out: int | None) -> None:
    attrs: dict[str, Any] = {"gen_ai.response.model": model}
    if rid:
        attrs["gen_ai.response.id"] = rid
    if tokens_in is not None and tokens_out is not None:
        attrs["gen_ai.usage.input_tokens"] = tokens_in
        attrs["gen_ai.usage.output_tokens"] = tokens_out
    span.set_attributes(attrs)
