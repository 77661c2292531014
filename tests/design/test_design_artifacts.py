"""Golden files for the example's artifacts, and the emitted files load where they are used:
portico.yaml in the gateway's config loader (and a gateway serving it against the fake
upstream), targets.yaml in the eval harness, alerts.yml as Prometheus rule groups."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import yaml

from portico.config import load_config, settings_from_dict
from portico.design.artifacts import render_all, write_artifacts
from portico.design.catalog import Catalog
from portico.design.plan import design
from portico.design.requirements import load_requirements, parse_requirements
from portico.evals.targets import load_targets as eval_load_targets
from portico.server import create_app
from portico.testing import FakeUpstream

from .conftest import EXAMPLE

GOLDEN = Path(__file__).parent / "golden" / "example"
REPO = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("PORTICO_UPDATE_GOLDEN") == "1"  # regenerate: PORTICO_UPDATE_GOLDEN=1 pytest tests/design


def test_artifacts_match_golden_files(catalog: Catalog) -> None:
    files = render_all(design(parse_requirements(EXAMPLE), catalog))
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(files)
    for name, text in files.items():
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), f"{name} differs; regenerate if intended"


def test_shipped_example_is_the_issue_example() -> None:
    assert load_requirements(REPO / "examples" / "requirements.yaml") == parse_requirements(EXAMPLE)


def test_emitted_files_load_where_they_are_used(catalog: Catalog, tmp_path: Path) -> None:
    d = design(parse_requirements(EXAMPLE), catalog)
    write_artifacts(d, tmp_path)
    settings = load_config(tmp_path / "portico.yaml", env={})
    assert settings.model_names() == [t.model.name for t in d.models.tiers]
    assert settings.auth.master_key is None  # env var unset -> open dev mode, still starts
    assert settings.resilience.policy("mistral-large").fallbacks == ["local"]
    assert settings.resilience.policy("mistral-small").fallbacks == ["local"]
    big = settings.deployments("mistral-large")[0]
    assert big.price.input_per_mtok == 2.0 and big.upstream_model == "mistral-large-latest"
    with_env = load_config(tmp_path / "portico.yaml", env={"MISTRAL_API_KEY": "k", "PORTICO_MASTER_KEY": "m"})
    assert with_env.auth.master_key is not None and with_env.auth.master_key.get_secret_value() == "m"

    specs = {s.metric: str(s.target) for s in eval_load_targets(tmp_path / "targets.yaml")}
    # budget 3000 / 6,000,000 requests x 1000 = $0.5 per 1K; cache target = expected hit rate 21%
    assert specs == {
        "accuracy": ">= 0.9",
        "p95_ms": "<= 1500",
        "error_rate": "<= 0.01",
        "cost_per_1k": "<= 0.5",
        "cache_hit_rate": ">= 0.21",
    }

    rules = yaml.safe_load((tmp_path / "alerts.yml").read_text())["groups"][0]["rules"]
    exprs = " ".join(r["expr"] for r in rules)
    for metric in (
        "portico_request_duration_seconds_bucket",
        "portico_requests_total",
        "portico_cost_usd_total",
        "portico_cache_lookups_total",
        "portico_guard_verdicts_total",
        "portico_gateway_overhead_seconds_bucket",
    ):
        assert metric in exprs
    assert {r["labels"]["severity"] for r in rules} == {"warning", "critical"}
    md = (tmp_path / "architecture.md").read_text()
    assert "```mermaid" in md and "flowchart LR" in md and "| step |" in md


def _point_at(raw: dict[str, Any], up: FakeUpstream) -> dict[str, Any]:
    for m in raw["models"]:
        if m["provider"] == "openai":
            m["base_url"] = up.base_url
        elif m["provider"] == "anthropic":
            m["base_url"] = up.url
    return raw


async def test_emitted_config_serves_chat_through_the_fake_upstream(catalog: Catalog, tmp_path: Path) -> None:
    # A US variant: OpenAI-compatible fast and powerful tiers, an Anthropic fallback (no local model to load).
    req = parse_requirements({**EXAMPLE, "data": {"residency": "any", "pii": True}, "latency_p95_ms": 60000})
    d = design(req, catalog)
    providers = {t.model.provider for t in d.models.tiers}
    assert providers == {"openai", "anthropic"}
    write_artifacts(d, tmp_path)
    raw = yaml.safe_load((tmp_path / "portico.yaml").read_text())
    async with FakeUpstream(reply="Reset it from Settings > Account.") as up:
        env = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-ant-test", "MISTRAL_API_KEY": "mk"}
        raw = _point_at(raw, up)
        # keep any storage the gateway opens inside the test's directory
        raw["storage"] = {"url": f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}", "wal_dir": str(tmp_path / "wal")}
        settings = settings_from_dict(raw, env=env, source="emitted portico.yaml")
        app = create_app(settings)
        await app.gateway.start()
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
                for t in d.models.tiers:
                    resp = await client.post(
                        "/v1/chat/completions",
                        json={"model": t.model.name, "messages": [{"role": "user", "content": "How do I reset?"}]},
                    )
                    assert resp.status_code == 200, resp.text
                    assert resp.json()["choices"][0]["message"]["content"] == "Reset it from Settings > Account."
        finally:
            await app.gateway.stop()
    assert len(up.requests) == len(d.models.tiers)
