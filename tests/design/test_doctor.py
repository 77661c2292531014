"""`portico doctor` against a real HTTP server exposing Prometheus text that violates each
target, and eval report fixtures in every shape the harness writes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from typer.testing import CliRunner

from portico.config import settings_from_dict
from portico.design.cli import register
from portico.design.doctor import load_targets, parse_eval_report, parse_metrics, run_checks
from portico.design.doctor.checks import Check, exit_code
from portico.errors import InvalidRequest
from portico.server import create_app
from portico.testing import FakeUpstream, serve_in_thread

BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0)
TARGETS = {
    "accuracy": ">= 0.9",
    "p95_ms": "<= 1000",
    "cost_per_1k": "<= 0.5",
    "error_rate": "<= 0.01",
    "cache_hit_rate": ">= 0.3",
}


def gateway_metrics(
    *,
    ok: int = 100,
    errors: int = 0,
    duration: float = 0.4,
    upstream: float = 0.38,
    overhead: float = 0.0008,
    cost_per_request: float = 0.0003,
    hits: int = 40,
    shares: dict[str, float] | None = None,
    blocks: int = 2,
) -> str:
    """Prometheus text as the gateway exports it, built with prometheus_client itself."""
    reg = CollectorRegistry()
    requests = Counter("portico_requests_total", "", ["model", "status"], registry=reg)
    dur = Histogram("portico_request_duration_seconds", "", ["model"], buckets=BUCKETS, registry=reg)
    up = Histogram("portico_upstream_duration_seconds", "", ["model"], buckets=BUCKETS, registry=reg)
    over = Histogram("portico_gateway_overhead_seconds", "", buckets=BUCKETS, registry=reg)
    cost = Counter("portico_cost_usd_total", "", ["model"], registry=reg)
    cache = Counter("portico_cache_lookups_total", "", ["tier", "result"], registry=reg)
    guards = Counter("portico_guard_verdicts_total", "", ["guard", "action"], registry=reg)
    shares = shares or {"fast": 0.6, "powerful": 0.4}
    total = ok + errors
    for model, share in shares.items():
        n_ok, n_err = round(ok * share), round(errors * share)
        requests.labels(model, "200").inc(n_ok)
        if n_err:
            requests.labels(model, "502").inc(n_err)
        for _ in range(n_ok + n_err):
            dur.labels(model).observe(duration)
            up.labels(model).observe(upstream)
            over.observe(overhead)
        cost.labels(model).inc(cost_per_request * (n_ok + n_err))
    cache.labels("exact", "hit").inc(hits // 2)
    cache.labels("exact", "miss").inc(total - hits // 2)
    cache.labels("semantic", "hit").inc(hits - hits // 2)
    cache.labels("semantic", "miss").inc(total - hits)
    guards.labels("injection", "allow").inc(total)
    guards.labels("injection", "block").inc(blocks)
    return generate_latest(reg).decode()


class PromServer:
    """A tiny real HTTP server on 127.0.0.1 serving whatever text the test sets."""

    def __init__(self) -> None:
        self.text = ""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = 200 if self.path == "/metrics" else 404
                body = owner.text.encode() if status == 200 else b"not found"
                self.send_response(status)
                self.send_header("content-type", "text/plain; version=0.0.4")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll interval so shutdown() returns quickly at teardown.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)


@pytest.fixture
def prom() -> Iterator[PromServer]:
    server = PromServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    return app


@pytest.fixture
def targets_file(tmp_path: Path) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text("\n".join(f"{k}: '{v}'" for k, v in TARGETS.items()) + "\n")
    return path


def doctor(cli: typer.Typer, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["doctor", *args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def by_rule(out: dict[str, Any], rule: str, source: str = "metrics") -> dict[str, Any]:
    return next(c for c in out["checks"] if c["rule"] == rule and c["source"] == source)


# ---- metrics scenarios: each violates one target ----------------------------------------------
def test_healthy_gateway_passes(cli: typer.Typer, prom: PromServer, targets_file: Path) -> None:
    prom.text = gateway_metrics()
    code, out = doctor(cli, "--url", prom.url, "--targets", str(targets_file))
    assert code == 0
    assert {c["status"] for c in out["checks"]} == {"pass"}
    assert {c["rule"] for c in out["checks"]} >= {
        "DOC-LATENCY",
        "DOC-COST",
        "DOC-ERRORS",
        "DOC-CACHE",
        "DOC-OVERHEAD",
        "DOC-SAFETY",
    }


def test_latency_over_twice_the_target_fails_with_the_breakdown(
    cli: typer.Typer, prom: PromServer, targets_file: Path
) -> None:
    prom.text = gateway_metrics(duration=3.0, upstream=2.9)
    code, out = doctor(cli, "--url", prom.url, "--targets", str(targets_file))
    check = by_rule(out, "DOC-LATENCY")
    assert code == 1 and check["status"] == "fail"
    assert "review infrastructure" in check["action"]
    assert "upstream 2900" in check["evidence"] and "dominant: upstream" in check["evidence"]
    assert check["numbers"]["p95_ms"] == pytest.approx(4875.0)  # 2.5 + 2.5 * 0.95 s within the (2.5, 5] bucket


def test_latency_queueing_dominates(cli: typer.Typer, prom: PromServer, targets_file: Path) -> None:
    prom.text = gateway_metrics(duration=1.2, upstream=0.3)
    _, out = doctor(cli, "--url", prom.url, "--targets", str(targets_file))
    check = by_rule(out, "DOC-LATENCY")
    assert check["status"] == "warn"  # p95 between 1x and 2x the target
    assert "dominant: queueing/other" in check["evidence"]


def test_cost_over_twice_the_budget_names_hit_rate_and_routing(
    cli: typer.Typer, prom: PromServer, targets_file: Path
) -> None:
    prom.text = gateway_metrics(cost_per_request=0.0015, hits=10)
    code, out = doctor(cli, "--url", prom.url, "--targets", str(targets_file))
    check = by_rule(out, "DOC-COST")
    assert code == 1 and check["status"] == "fail"
    assert check["numbers"]["cost_per_1k"] == pytest.approx(1.5)
    assert "caching and routing" in check["action"]
    assert "cache hit rate 10.0%" in check["evidence"] and "routing share fast 60%, powerful 40%" in check["evidence"]
    assert by_rule(out, "DOC-CACHE")["status"] == "warn"  # 10% < 30%, a warning, never a failure


def test_error_rate(cli: typer.Typer, prom: PromServer, targets_file: Path) -> None:
    prom.text = gateway_metrics(ok=95, errors=5)
    code, out = doctor(cli, "--url", prom.url, "--targets", str(targets_file))
    check = by_rule(out, "DOC-ERRORS")
    assert code == 1 and check["status"] == "fail" and check["numbers"]["error_rate"] == pytest.approx(0.05)


def test_gateway_overhead_warns(cli: typer.Typer, prom: PromServer, targets_file: Path) -> None:
    prom.text = gateway_metrics(duration=0.4, upstream=0.1, overhead=0.2)
    _, out = doctor(cli, "--url", prom.url, "--targets", str(targets_file))
    assert by_rule(out, "DOC-OVERHEAD")["status"] == "warn"


def test_guard_blocks_are_reported_as_evidence(cli: typer.Typer, prom: PromServer, targets_file: Path) -> None:
    prom.text = gateway_metrics(blocks=7)
    _, out = doctor(cli, "--url", prom.url, "--targets", str(targets_file))
    assert "injection 7" in by_rule(out, "DOC-SAFETY")["evidence"]


# ---- eval reports -------------------------------------------------------------------------------
ACCURACY_CASES = [(0.95, "pass", ""), (0.85, "warn", "iterate"), (0.75, "fail", "fine-tuning")]


@pytest.mark.parametrize(("accuracy", "status", "action"), ACCURACY_CASES)
def test_accuracy_red_flag(
    cli: typer.Typer, tmp_path: Path, targets_file: Path, accuracy: float, status: str, action: str
) -> None:
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps({"accuracy": accuracy, "p95_ms": 800, "cost_per_1k": 0.4, "error_rate": 0.0, "cache_hit_rate": 0.5})
    )
    code, out = doctor(cli, "--eval", str(report), "--targets", str(targets_file))
    check = by_rule(out, "DOC-ACCURACY", "eval:report")
    assert check["status"] == status and action in check["action"]
    assert code == (1 if status == "fail" else 0)


def test_eval_report_shapes() -> None:
    flat = parse_eval_report({"accuracy": 0.9, "p95_ms": 100, "note": "x"})
    assert flat[0].metrics == {"accuracy": 0.9, "p95_ms": 100.0}
    results = parse_eval_report(
        {"results": [{"model": "a", "metrics": {"accuracy": 0.7}}, {"model": "b", "metrics": {"accuracy": 0.95}}]}
    )
    assert [(r.model, r.metrics["accuracy"]) for r in results] == [("a", 0.7), ("b", 0.95)]
    harness = parse_eval_report(
        {
            "portico_eval_report": 1,
            "summaries": [{"target": "local", "kind": "model", "accuracy": 0.5, "p95_ms": 300.0, "cost_per_1k": None}],
        }
    )
    assert harness[0].model == "local" and harness[0].metrics["accuracy"] == 0.5
    assert "cost_per_1k" not in harness[0].metrics
    with pytest.raises(InvalidRequest):
        parse_eval_report([1, 2])


def test_per_model_results_are_checked_separately() -> None:
    evals = parse_eval_report(
        {"results": [{"model": "a", "metrics": {"accuracy": 0.7}}, {"model": "b", "metrics": {"accuracy": 0.95}}]}
    )
    checks = run_checks(None, evals, load_targets(None))
    assert [(c.source, c.status) for c in checks] == [("eval:a", "fail"), ("eval:b", "pass")]


HALLUCINATION_CASES = [
    ({"hallucination_rate": 0.2}, "fail", "RAG grounding or stronger output guardrails"),
    ({"hallucination_rate": 0.07}, "warn", "tighten retrieval"),
    ({"groundedness": 0.75}, "fail", "RAG grounding"),
    ({"groundedness": 0.85}, "warn", "tighten retrieval"),
    ({"groundedness": 0.95}, "pass", ""),
]


@pytest.mark.parametrize(("metrics", "status", "action"), HALLUCINATION_CASES)
def test_hallucination_red_flag(metrics: dict[str, float], status: str, action: str) -> None:
    checks = run_checks(None, parse_eval_report(metrics), load_targets(None))
    check = next(c for c in checks if c.rule == "DOC-HALLUCINATION")
    assert check.status == status and action in check.action


def test_safety_bypass_fails() -> None:
    checks = run_checks(None, parse_eval_report({"safety_bypass_rate": 0.01}), load_targets(None))
    check = next(c for c in checks if c.rule == "DOC-SAFETY")
    assert check.status == "fail" and "review" in check.action
    assert exit_code(checks) == 1


def test_metrics_and_eval_together(cli: typer.Typer, prom: PromServer, tmp_path: Path, targets_file: Path) -> None:
    prom.text = gateway_metrics()
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"results": [{"model": "fast", "metrics": {"accuracy": 0.97}}]}))
    code, out = doctor(cli, "--url", prom.url, "--eval", str(report), "--targets", str(targets_file))
    assert code == 0 and {c["source"] for c in out["checks"]} == {"metrics", "eval:fast"}


# ---- targets, exit codes, usage errors ------------------------------------------------------------
def test_targets_grammar_and_defaults(tmp_path: Path) -> None:
    t = load_targets(None)
    assert str(t.get("accuracy")) == ">= 0.9" and t.get("p95_ms") is None
    path = tmp_path / "t.yaml"
    path.write_text('accuracy: {target: ">= 95%", critical: ">= 0.9"}\nlatency_p95_ms: "<= 800"\n')
    t = load_targets(path)
    acc = t.get("accuracy")
    assert acc is not None and acc.value == pytest.approx(0.95) and acc.critical is not None
    checks = run_checks(None, parse_eval_report({"accuracy": 0.92, "p95_ms": 900}), t)
    assert {c.rule: c.status for c in checks}["DOC-ACCURACY"] == "warn"  # explicit critical level 0.9
    assert {c.rule: c.status for c in checks}["DOC-LATENCY"] == "warn"


def test_exit_codes_and_strict(cli: typer.Typer, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"accuracy": 0.85}))
    runner = CliRunner()
    assert runner.invoke(cli, ["doctor", "--eval", str(report)]).exit_code == 0
    assert runner.invoke(cli, ["doctor", "--eval", str(report), "--strict"]).exit_code == 1
    checks = [Check("X", "x", "metrics", "skip", "")]
    assert exit_code(checks, strict=True) == 0


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--eval", "/nonexistent/report.json"],
        ["--url", "http://127.0.0.1:9"],  # nothing listens on the discard port
        ["--eval", "{report}", "--targets", "{bad_targets}"],
    ],
)
def test_usage_errors_exit_2(cli: typer.Typer, tmp_path: Path, args: list[str]) -> None:
    report = tmp_path / "r.json"
    report.write_text("{}")
    bad = tmp_path / "bad.yaml"
    bad.write_text("accuracy: 'about 0.9'\n")
    args = [a.format(report=report, bad_targets=bad) for a in args]
    result = CliRunner().invoke(cli, ["doctor", *args])
    assert result.exit_code == 2
    assert "error:" in result.output


def test_non_prometheus_text_is_a_usage_error(cli: typer.Typer, prom: PromServer) -> None:
    prom.text = "this is { not prometheus"
    result = CliRunner().invoke(cli, ["doctor", "--url", prom.url])
    assert result.exit_code == 2


def test_histogram_quantile_by_hand() -> None:
    text = "\n".join(
        [
            "# TYPE portico_request_duration_seconds histogram",
            'portico_request_duration_seconds_bucket{model="a",le="0.1"} 30',
            'portico_request_duration_seconds_bucket{model="a",le="0.5"} 60',
            'portico_request_duration_seconds_bucket{model="a",le="1.0"} 60',
            'portico_request_duration_seconds_bucket{model="a",le="+Inf"} 60',
            'portico_request_duration_seconds_bucket{model="b",le="0.1"} 20',
            'portico_request_duration_seconds_bucket{model="b",le="0.5"} 30',
            'portico_request_duration_seconds_bucket{model="b",le="1.0"} 40',
            'portico_request_duration_seconds_bucket{model="b",le="+Inf"} 40',
            'portico_request_duration_seconds_count{model="a"} 60',
            'portico_request_duration_seconds_sum{model="a"} 12',
            'portico_request_duration_seconds_count{model="b"} 40',
            'portico_request_duration_seconds_sum{model="b"} 10',
            "",
        ]
    )
    snap = parse_metrics(text)
    # summed: le 0.1 -> 50, 0.5 -> 90, 1.0 -> 100; rank 95 lies in (0.5, 1.0]: 0.5 + 0.5 * 5 / 10 = 0.75
    assert snap.histogram_quantile(0.95, "portico_request_duration_seconds") == pytest.approx(0.75)
    assert snap.histogram_quantile(0.25, "portico_request_duration_seconds") == pytest.approx(0.05)
    assert snap.histogram_mean("portico_request_duration_seconds") == pytest.approx(0.22)


def test_doctor_against_a_real_gateway_under_slow_fake_traffic(cli: typer.Typer, tmp_path: Path) -> None:
    """A Portico gateway over a fake upstream that answers in 300 ms, checked against a 100 ms target."""
    up = FakeUpstream(reply="ok", delay=0.3).start_in_thread()
    try:
        settings = settings_from_dict(
            {
                "models": [
                    {
                        "name": "gpt",
                        "provider": "openai",
                        "base_url": up.base_url,
                        "api_key": "k",
                        "price": {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0},
                    }
                ],
                "embeddings": {"enabled": False},
                "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", "wal_dir": str(tmp_path / "wal")},
            },
            env={},
        )
        with serve_in_thread(create_app(settings)) as url:
            with httpx.Client(base_url=url, timeout=10) as client:
                for _ in range(4):
                    resp = client.post(
                        "/v1/chat/completions", json={"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}
                    )
                    assert resp.status_code == 200, resp.text
            targets = tmp_path / "t.yaml"
            targets.write_text('p95_ms: "<= 100"\ncost_per_1k: "<= 0.001"\n')
            code, out = doctor(cli, "--url", url, "--targets", str(targets))
    finally:
        up.stop_thread()
    assert code == 1
    latency = by_rule(out, "DOC-LATENCY")
    assert latency["status"] == "fail" and "dominant: upstream" in latency["evidence"]
    assert latency["numbers"]["p95_ms"] > 200
    assert by_rule(out, "DOC-COST")["status"] == "fail"
    assert by_rule(out, "DOC-ERRORS")["status"] == "pass"
