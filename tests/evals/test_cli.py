"""``portico eval run`` end to end: in-process gateway (echo model), a served gateway over HTTP,
CI-gating exit codes, malformed rows, and an interrupted run that still writes its report."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from portico.evals.cli import register
from portico.evals.records import Target
from portico.evals.session import EXIT_INTERRUPTED, EvalOptions, run_evaluation

ROWS = [
    {"prompt": "Say Paris", "expected": "Paris"},
    {"prompt": "Say Tokyo", "expected": "Tokyo"},
    {"messages": [{"role": "user", "content": "Say 4"}], "expected": ["4", "four"]},
    {"prompt": "Say blue", "expected": "red"},
]


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    return app


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "ds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (tmp_path / "portico.yaml").write_text(
        "models:\n  - name: echo\n    provider: echo\n"
        "    price: {input_per_mtok: 1.0, output_per_mtok: 2.0}\n"
        "embeddings: {enabled: false}\n"
    )
    return tmp_path


def invoke(workdir: Path, *args: str, targets: str | None = None) -> tuple[int, str, dict[str, Any] | None]:
    extra: list[str] = []
    if targets is not None:
        (workdir / "targets.yaml").write_text(targets)
        extra = ["--targets", str(workdir / "targets.yaml")]
    out = workdir / "out"
    result = CliRunner().invoke(
        cli(),
        [
            "eval",
            "run",
            "--config",
            str(workdir / "portico.yaml"),
            "--dataset",
            str(workdir / "ds.jsonl"),
            "--out",
            str(out),
            *extra,
            *args,
        ],
    )
    reports = sorted(out.glob("*.json")) if out.exists() else []
    report = json.loads(reports[-1].read_text()) if reports else None
    return result.exit_code, result.output, report


def test_in_process_run_writes_json_and_html(workdir: Path) -> None:
    code, output, report = invoke(workdir, "--model", "echo", "--metrics", "accuracy,latency,cost,tokens")
    assert code == 0, output
    assert report is not None
    s = report["summaries"][0]
    assert (s["target"], s["rows"], s["correct"], s["accuracy"]) == ("echo", 4, 3, 0.75)
    assert s["accuracy_ci_low"] < 0.75 < s["accuracy_ci_high"]
    assert s["p95_ms"] > 0 and s["error_rate"] == 0
    assert s["cost_per_1k"] > 0 and s["prompt_tokens"] > 0
    assert report["complete"] is True and report["interrupted"] is False and report["gate"] == "none"
    assert report["settings"]["mode"] == "in-process"
    assert {r["case_id"] for r in report["rows"]} == {"ds-1", "ds-2", "ds-3", "ds-4"}
    failed = next(r for r in report["rows"] if r["line"] == 4)
    assert failed["passed"] is False and failed["checks"][0]["type"] == "contains"
    html = next((workdir / "out").glob("*.html")).read_text()
    assert "<svg" in html and "Say Tokyo" in html and "75.0%" in html
    svg = ElementTree.fromstring(html[html.index("<svg") : html.index("</svg>") + 6])  # well-formed
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) >= 1
    assert "accuracy" in output and "p95 ms" in output


def test_report_json_shape(workdir: Path) -> None:
    _, _, report = invoke(workdir, "--model", "echo", targets='accuracy: ">= 0.5"\n')
    assert report is not None
    assert set(report) >= {
        "portico_eval_report",
        "dataset",
        "started_at",
        "finished_at",
        "duration_s",
        "interrupted",
        "complete",
        "planned_rows_per_target",
        "dataset_problems",
        "settings",
        "summaries",
        "targets",
        "gate",
        "rows",
    }
    assert set(report["summaries"][0]) >= {
        "target",
        "kind",
        "accuracy",
        "accuracy_ci_low",
        "accuracy_ci_high",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "ttft_p50_ms",
        "cost_per_1k",
        "error_rate",
        "cache_hit_rate",
        "prompt_tokens",
        "completion_tokens",
    }
    assert set(report["rows"][0]) >= {
        "target",
        "case_id",
        "line",
        "prompt",
        "expected",
        "output",
        "passed",
        "checks",
        "latency_ms",
        "error",
        "cost_usd",
        "cache",
    }
    assert report["targets"] == [
        {
            "target": "echo",
            "metric": "accuracy",
            "value": 0.75,
            "condition": ">= 0.5",
            "critical": ">= 0.25",
            "status": "pass",
        }
    ]


@pytest.mark.parametrize(
    "targets, code, gate",
    [
        ('accuracy: ">= 0.0"\n', 0, "pass"),
        ('accuracy: ">= 1.01"\n', 1, "fail"),
        ('accuracy: ">= 0.8"\n', 0, "warn"),  # 0.75 misses 0.8 but meets the critical 0.6
        ('accuracy: ">= 0.9"\n', 1, "fail"),  # 0.75 misses the critical 0.8
        ('accuracy: ">= 0.5"\nerror_rate: "<= 0.01"\np95_ms: "<= 60000"\ncost_per_1k: "<= 100"\n', 0, "pass"),
        ('cache_hit_rate: ">= 0.6"\n', 1, "fail"),  # the echo config has no cache: every request misses
    ],
)
def test_targets_gate_the_exit_code(workdir: Path, targets: str, code: int, gate: str) -> None:
    got, output, report = invoke(workdir, "--model", "echo", targets=targets)
    assert got == code, output
    assert report is not None and report["gate"] == gate


@pytest.mark.parametrize(
    "targets, message",
    [
        ('latency: "<= 2000"\n', "unknown metric"),
        ('accuracy: "about 0.9"\n', "malformed condition"),
        ("accuracy: [\n", "not valid YAML"),
    ],
)
def test_bad_targets_exit_2_before_any_request(workdir: Path, targets: str, message: str) -> None:
    code, output, report = invoke(workdir, "--model", "echo", targets=targets)
    assert code == 2 and message in output and report is None


@pytest.mark.parametrize(
    "args, message",
    [
        (("--model", "nope"), "unknown model/route nope"),
        ((), "--model"),
        (("--model", "echo", "--metrics", "accuracy,vibes"), "unknown metric"),
        (("--model", "echo", "--scorer", "fuzzy"), "unknown scorer"),
    ],
)
def test_usage_errors_exit_2(workdir: Path, args: tuple[str, ...], message: str) -> None:
    code, output, _ = invoke(workdir, *args)
    assert code == 2 and message in output


def test_malformed_rows_are_named_and_the_rest_evaluated(workdir: Path) -> None:
    lines = [
        json.dumps(ROWS[0]),
        "{oops",
        json.dumps({"prompt": "no expected"}),
        json.dumps(ROWS[1]),
        json.dumps({"prompt": "Say x", "assert": [{"type": "vibes"}]}),
    ]
    (workdir / "ds.jsonl").write_text("\n".join(lines) + "\n")
    code, output, report = invoke(workdir, "--model", "echo")
    assert code == 0, output
    assert "line 2: invalid JSON" in output and "line 3: no expected answer" in output
    assert "line 5: unknown scorer 'vibes'" in output
    assert report is not None and report["summaries"][0]["rows"] == 2 and report["summaries"][0]["accuracy"] == 1.0
    assert [p.split(":")[0] for p in report["dataset_problems"]] == ["line 2", "line 3", "line 5"]


def test_side_by_side_against_a_served_gateway(workdir: Path, served: tuple[str, Any]) -> None:
    url, _ = served
    code, output, report = invoke(
        workdir,
        "--base-url",
        url,
        "--model",
        "gpt",
        "--model",
        "echo",
        "--stream",
        "--metrics",
        "accuracy,latency,ttft,cost,cache,errors",
    )
    assert code == 0, output
    assert report is not None and report["settings"]["mode"] == "http"
    by_name = {s["target"]: s for s in report["summaries"]}
    assert set(by_name) == {"gpt", "echo"}
    assert by_name["gpt"]["correct"] == 1  # the fake upstream always says Paris
    assert by_name["echo"]["correct"] == 3
    assert by_name["gpt"]["ttft_p50_ms"] is not None and by_name["gpt"]["ttft_p50_ms"] <= by_name["gpt"]["p50_ms"]
    # Streams carry no final cost header: usage x the price in --config (echo is priced there, gpt not).
    assert by_name["echo"]["cost_source"] == "price" and by_name["echo"]["cost_per_1k"] > 0
    assert by_name["gpt"]["cost_per_1k"] is None
    assert by_name["gpt"]["cache_hit_rate"] == 0.0
    assert "gpt" in output and "echo" in output
    code, output, report = invoke(workdir, "--base-url", url, "--model", "gpt")
    assert code == 0 and report is not None
    assert report["summaries"][0]["cost_source"] == "header" and report["summaries"][0]["cost_per_1k"] > 0


class InterruptAfter:
    """An OpenAI-compatible handler that answers N requests, then behaves like Ctrl-C."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen > self.n:
            raise KeyboardInterrupt
        body = json.loads(request.content)
        text = body["messages"][-1]["content"]
        return httpx.Response(
            200,
            json={
                "model": body["model"],
                "choices": [{"message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            },
            headers={"x-portico-cost-usd": "0.001", "x-portico-cache": "miss"},
        )


def test_interrupted_run_writes_a_partial_report(tmp_path: Path) -> None:
    ds = tmp_path / "big.jsonl"
    ds.write_text("".join(json.dumps({"prompt": f"Say {i}", "expected": str(i)}) + "\n" for i in range(20)))
    handler = InterruptAfter(5)

    @asynccontextmanager
    async def http() -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://test") as c:
            yield c

    options = EvalOptions(dataset=ds, targets=(Target("m"),), concurrency=1, out_dir=tmp_path / "out")
    result = run_evaluation(options, http, console=Console(file=open(tmp_path / "log.txt", "w")))  # noqa: SIM115
    assert result.exit_code == EXIT_INTERRUPTED
    saved = json.loads(result.files.json.read_text())
    assert saved["interrupted"] is True and saved["complete"] is False
    assert saved["summaries"][0]["rows"] == 5 and saved["summaries"][0]["planned"] == 20
    assert saved["summaries"][0]["accuracy"] == 1.0 and saved["summaries"][0]["cost_per_1k"] == pytest.approx(1.0)
    assert result.files.html.exists() and "partial report" in result.files.html.read_text()


def test_llm_judge_goes_through_the_gateway(workdir: Path) -> None:
    # The echo model as judge repeats the grading prompt, whose first verdict word is the graded reply's.
    rows = [
        {"prompt": "this is PASS worthy", "assert": [{"type": "llm_judge", "value": "Is it good?"}]},
        {"prompt": "this is FAIL worthy", "assert": [{"type": "llm-rubric"}]},
    ]
    (workdir / "ds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, output, report = invoke(workdir, "--model", "echo", "--judge-model", "echo")
    assert code == 0, output
    assert report is not None
    assert [r["passed"] for r in sorted(report["rows"], key=lambda r: r["line"])] == [True, False]
    assert report["rows"][0]["checks"][0]["type"] == "llm_judge"
