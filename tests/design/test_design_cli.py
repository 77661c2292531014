"""`portico design` through a small typer app with the command registered (as the root CLI does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from portico.design.cli import register

from .conftest import ASSUMPTIONS, EXAMPLE


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    return app


@pytest.fixture
def req_file(tmp_path: Path) -> Path:
    path = tmp_path / "req.yaml"
    path.write_text(yaml.safe_dump(EXAMPLE))
    return path


def test_json_output_is_one_object_with_the_decisions(cli: typer.Typer, req_file: Path) -> None:
    result = CliRunner().invoke(cli, ["design", str(req_file), "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["approach"]["primary"] == "rag"
    # EU + 0.9 accuracy + 1.5 s: no EU model reaches the quality proxy or the p95, so the search says so
    assert d["feasible"] is False and ["quality", "latency_p95"] in d["binding_constraints"]
    assert d["plan"]["models"] == ["mistral-small"] and d["fallback"] == "local"
    assert set(d["pareto"]) >= {"fastest", "best_within_budget"}
    assert d["cost"]["monthly_total"] == pytest.approx(sum(d["cost"]["per_component"].values()), abs=0.05)
    assert {c["id"] for c in d["controls"]} >= {"GDPR-RESIDENCY", "SOC2-AUDIT", "SAFE-PII"}


def test_out_writes_every_artifact(cli: typer.Typer, req_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["design", str(req_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Approach" in result.stdout and "rag" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "alerts.yml",
        "architecture.md",
        "design.json",
        "portico.yaml",
        "targets.yaml",
    ]


def test_custom_catalog_replaces_the_shipped_one(cli: typer.Typer, tmp_path: Path) -> None:
    catalog = {
        "version": "mine",
        "assumptions": {k: {"value": v, "source": "test"} for k, v in ASSUMPTIONS.items()},
        "models": [
            {
                "name": "house-model",
                "provider": "openai",
                "hosting": "api",
                "base_url": "http://llm.internal/v1",
                "context_window": 32000,
                "price": {"input_per_mtok": 1, "output_per_mtok": 1, "source": "contract"},
                "latency": {"ttft_ms": 100, "output_tok_s": 200, "source": "measured"},
                "quality": {"score": 0.8, "benchmark": "ours", "source": "eval"},
            }
        ],
    }
    cat_file, req = tmp_path / "cat.yaml", tmp_path / "req.yaml"
    cat_file.write_text(yaml.safe_dump(catalog))
    req.write_text("use_case: internal\n")
    result = CliRunner().invoke(cli, ["design", str(req), "--catalog", str(cat_file), "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["catalog_version"] == "mine" and d["plan"]["models"] == ["house-model"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("traffic: {rps: 3}\n", "traffic.rps: unknown field"),
        ("latency_p95_ms: [1, 2\n", "not valid YAML"),
        ("latency_p95_ms: fast\n", "latency_p95_ms"),
        ("compliance: [iso27001]\n", "compliance"),
    ],
)
def test_usage_errors_exit_2_and_name_the_problem(
    cli: typer.Typer, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "req.yaml"
    if content is not None:
        path.write_text(content)
    result = CliRunner().invoke(cli, ["design", str(path)])
    assert result.exit_code == 2
    assert message in result.output


def test_bad_catalog_is_a_usage_error(cli: typer.Typer, tmp_path: Path, req_file: Path) -> None:
    bad = tmp_path / "cat.yaml"
    bad.write_text("version: x\nassumptions: {}\nmodels: [{name: a}]\n")
    result = CliRunner().invoke(cli, ["design", str(req_file), "--catalog", str(bad)])
    assert result.exit_code == 2 and "cat.yaml" in result.output


def test_check_validates_and_starts_the_config(cli: typer.Typer, tmp_path: Path) -> None:
    req = tmp_path / "req.yaml"
    req.write_text(
        yaml.safe_dump({"use_case": "faq", "data": {"sensitivity": "low"}, "quality": {"min_accuracy": 0.8}})
    )
    result = CliRunner().invoke(cli, ["design", str(req), "--check"])
    assert result.exit_code == 0, result.output
    assert "valid: portico.config.Settings accepts it" in result.stdout
    assert "started in-process: /healthz 200" in result.stdout and "check OK" in result.stdout


def test_user_measurements_replace_the_shipped_ones(cli: typer.Typer, tmp_path: Path) -> None:
    req, mine = tmp_path / "req.yaml", tmp_path / "mine.yaml"
    req.write_text(yaml.safe_dump({"traffic": {"repeat_query_share": 0.5, "exact_repeat_share": 0.0}}))
    mine.write_text(yaml.safe_dump({"semantic_cache_recall": {"value": 0.5, "source": "our replay, 2026-12-01"}}))
    result = CliRunner().invoke(cli, ["design", str(req), "--json", "--measurements", str(mine)])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["cache"]["expected_hit_rate"] == pytest.approx(0.25)
    assert any("our replay" in s["source"] for s in d["cost"]["steps"])
