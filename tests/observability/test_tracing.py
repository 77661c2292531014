"""OpenTelemetry traces: GenAI attributes, span kinds, a span per stage and per attempt,
W3C traceparent in and out; with an in-memory exporter and with a real OTLP/HTTP receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest

from portico.assembly import assemble
from portico.server import create_app
from portico.testing import FakeUpstream, make_settings, serve_in_thread
from portico.testing.faults import Behaviour

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed (pip install -e '.[otel]')")

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from portico.observability.tracing import Tracing

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _settings(up: FakeUpstream, tmp_path: Path, **extra: Any) -> Any:
    return make_settings(
        [
            {
                "name": "gpt",
                "provider": "openai",
                "base_url": up.base_url,
                "api_key": "sk-upstream-secret-1",
                "model": "gpt-4o-mini-2024",
                "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
            }
        ],
        auth={"master_key": "sk-trace-master-0123456789"},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/t.db", "wal_dir": str(tmp_path / "wal")},
        resilience={"defaults": {"retry": {"max_attempts": 3, "base_delay": 0.0}}},
        **extra,
    )


@pytest.fixture
def traced(thread_upstream: FakeUpstream, tmp_path: Path) -> Iterator[tuple[str, FakeUpstream, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    settings = _settings(thread_upstream, tmp_path, tracing={"enabled": True})
    gateway = assemble(settings, tracing=Tracing.from_settings(settings.tracing, exporter=exporter))
    with serve_in_thread(create_app(settings, gateway=gateway)) as url:
        yield url, thread_upstream, exporter


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{url}/v1",
        api_key="sk-trace-master-0123456789",
        max_retries=0,
        default_headers={"traceparent": CLIENT_PARENT},
    )


def _by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in spans if s.kind is kind]


def _ancestors(span: ReadableSpan, spans: tuple[ReadableSpan, ...]) -> list[str]:
    by_id = {s.context.span_id: s for s in spans}
    out, parent = [], span.parent
    while parent is not None and parent.span_id in by_id:
        up = by_id[parent.span_id]
        out.append(up.name)
        parent = up.parent
    return out


def test_a_chat_request_is_one_trace_with_genai_attributes(
    traced: tuple[str, FakeUpstream, InMemorySpanExporter],
) -> None:
    url, up, exporter = traced
    up.push(Behaviour(kind="status", status=503))  # the first attempt fails, the retry succeeds
    raw = _client(url).chat.completions.with_raw_response.create(
        model="gpt", messages=[{"role": "user", "content": "Capital of France?"}]
    )
    assert raw.parse().choices[0].message.content
    spans = exporter.get_finished_spans()
    assert {format(s.context.trace_id, "032x") for s in spans} == {TRACE_ID}  # the client's trace continues

    [server] = _by_kind(spans, SpanKind.SERVER)
    assert server.name == "POST /v1/chat/completions"
    assert server.parent is not None and format(server.parent.span_id, "016x") == "00f067aa0ba902b7"
    a = server.attributes or {}
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.request.model"] == "gpt"
    assert a["gen_ai.response.model"] == "gpt" and a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
    assert a["http.response.status_code"] == 200 and a["portico.attempts"] == 2
    assert a["portico.request_id"] == raw.headers["x-request-id"]

    stages = [s for s in spans if s.kind is SpanKind.INTERNAL]
    names = {s.name for s in stages}
    assert {"portico.accounting", "portico.admission"} <= names
    assert all("POST /v1/chat/completions" in _ancestors(s, spans) for s in stages)

    clients = sorted(_by_kind(spans, SpanKind.CLIENT), key=lambda s: s.start_time or 0)
    assert len(clients) == 2  # one CLIENT span per attempt
    failed, ok = clients
    assert failed.status.status_code is StatusCode.ERROR and (failed.attributes or {}).get("error.type")
    c = ok.attributes or {}
    assert ok.name == "chat gpt-4o-mini-2024"
    assert c["gen_ai.provider.name"] == "openai" and c["gen_ai.request.model"] == "gpt-4o-mini-2024"
    assert c["gen_ai.response.model"] and c["gen_ai.usage.output_tokens"] > 0
    assert c["server.address"] == "127.0.0.1" and c["portico.deployment"] == "gpt#0"
    assert "POST /v1/chat/completions" in _ancestors(ok, spans)

    # each attempt told the upstream its own span as the parent (W3C traceparent)
    sent = [r.headers.get("traceparent", r.headers.get("Traceparent")) for r in up.requests[-2:]]
    assert sent == [f"00-{TRACE_ID}-{format(s.context.span_id, '016x')}-01" for s in clients]


def test_a_stream_records_its_usage_when_it_ends(traced: tuple[str, FakeUpstream, InMemorySpanExporter]) -> None:
    url, _up, exporter = traced
    stream = _client(url).chat.completions.create(
        model="gpt",
        messages=[{"role": "user", "content": "Tell me a story"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text
    spans = exporter.get_finished_spans()
    [server] = _by_kind(spans, SpanKind.SERVER)
    [client] = _by_kind(spans, SpanKind.CLIENT)
    assert (server.attributes or {})["gen_ai.usage.output_tokens"] > 0
    assert (server.attributes or {})["gen_ai.request.stream"] is True
    assert (client.attributes or {})["gen_ai.usage.output_tokens"] > 0
    assert any(e.name == "gen_ai.first_token" for e in client.events)


def test_a_refused_request_is_a_server_span_with_its_status(
    traced: tuple[str, FakeUpstream, InMemorySpanExporter],
) -> None:
    url, _up, exporter = traced
    bad = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-wrong-0123456789", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
    [server] = _by_kind(exporter.get_finished_spans(), SpanKind.SERVER)
    assert (server.attributes or {})["http.response.status_code"] == 401
    assert not _by_kind(exporter.get_finished_spans(), SpanKind.CLIENT)


def test_tracing_off_adds_nothing(thread_upstream: FakeUpstream, tmp_path: Path) -> None:
    settings = _settings(thread_upstream, tmp_path)
    gateway = assemble(settings)
    assert gateway.tracing is None
    assert all(type(d.provider).__name__ != "TracedProvider" for d in gateway.caller.all_deployments())
    with serve_in_thread(create_app(settings, gateway=gateway)) as url:
        _client(url).chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
    assert "traceparent" not in {k.lower() for k in thread_upstream.requests[-1].headers}


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes, str]] = []  # noqa: RUF012 - one receiver per test (reset below)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append((self.path, body, self.headers.get("content-type", "")))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def test_spans_reach_a_real_otlp_http_receiver(thread_upstream: FakeUpstream, tmp_path: Path) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    class Receiver(_Receiver):
        received: list[tuple[str, bytes, str]] = []  # noqa: RUF012

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
        settings = _settings(
            thread_upstream,
            tmp_path,
            tracing={"enabled": True, "endpoint": endpoint, "service_name": "portico-test", "headers": {"x-k": "v"}},
        )
        with serve_in_thread(create_app(settings)) as url:
            _client(url).chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
        # leaving the block stopped the gateway, which flushed the batch exporter
    finally:
        server.shutdown()
        server.server_close()
    assert Receiver.received and all(path == "/v1/traces" for path, _, _ in Receiver.received)
    assert all(ctype == "application/x-protobuf" for _, _, ctype in Receiver.received)
    spans: list[Any] = []
    services = set()
    for _, body, _ in Receiver.received:
        export = ExportTraceServiceRequest.FromString(body)
        for rs in export.resource_spans:
            services |= {a.value.string_value for a in rs.resource.attributes if a.key == "service.name"}
            for ss in rs.scope_spans:
                spans.extend(ss.spans)
    assert services == {"portico-test"}
    assert {s.trace_id.hex() for s in spans} == {TRACE_ID}
    kinds = {s.kind for s in spans}
    assert {2, 3} <= kinds  # SPAN_KIND_SERVER, SPAN_KIND_CLIENT
    server_span = next(s for s in spans if s.kind == 2)
    attrs = {a.key: a.value for a in server_span.attributes}
    assert attrs["gen_ai.request.model"].string_value == "gpt"
    assert attrs["gen_ai.usage.output_tokens"].int_value > 0
