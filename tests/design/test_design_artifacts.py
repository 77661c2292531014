"""Golden files for the example's artifacts, and the emitted files load where they are used:
portico.yaml in the gateway's settings model and a running gateway (every example requirements
file round-trips design -> serve against the fake upstream), targets.yaml in the eval harness,
alerts.yml as Prometheus rule groups at the seed's levels."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from portico.config import load_config, settings_from_dict
from portico.design.artifacts import render_all, write_artifacts
from portico.design.catalog import Catalog
from portico.design.check import embedded_stores
from portico.design.plan import Design, design
from portico.design.render_config import ROUTE_NAME
from portico.design.requirements import load_requirements, parse_requirements
from portico.evals.targets import load_targets as eval_load_targets
from portico.server import create_app
from portico.testing import FakeUpstream

from .conftest import EXAMPLE

GOLDEN = Path(__file__).parent / "golden" / "example"
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    p
    for p in (REPO / "examples").glob("*.yaml")
    if p.read_text().lstrip().startswith(("#", "use_case")) and "use_case:" in p.read_text()
)
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
    assert settings.model_names() == [m.name for m in d.serving_models()]
    assert settings.auth.master_key is None  # env var unset -> open dev mode, still starts
    assert settings.guards.default.canary and {g.type for g in settings.guards.default.input} >= {
        "pii",
        "injection",
        "content",
    }
    assert settings.cache.enabled and settings.cache.partition == "key"  # high sensitivity + PII
    assert settings.storage.store_prompts is False and settings.storage.durability == "commit"
    # one deadline per request at the critical latency level: 3 x 1,500 ms
    assert settings.server.request_timeout == 4.5
    assert settings.resilience.defaults.retry.deadline == 4.5
    with_env = load_config(tmp_path / "portico.yaml", env={"MISTRAL_API_KEY": "k", "PORTICO_MASTER_KEY": "m"})
    assert with_env.auth.master_key is not None and with_env.auth.master_key.get_secret_value() == "m"

    specs = {s.metric: (str(s.target), str(s.critical)) for s in eval_load_targets(tmp_path / "targets.yaml")}
    # the seed's table: p95 target 2x / critical 3x the 1,500 ms requirement; errors 1% / 5%; cache 60% / 40%;
    # cost: budget 3000 / 6,000,000 requests x 1000 = $0.5 per 1K, critical 150%
    assert specs["p95_ms"] == ("<= 3000", "<= 4500")
    assert specs["error_rate"] == ("<= 0.01", "<= 0.05")
    assert specs["cache_hit_rate"] == (">= 0.6", ">= 0.4")
    assert specs["cost_per_1k"] == ("<= 0.5", "<= 0.75")
    assert specs["accuracy"] == (">= 0.9", ">= 0.8")

    rules = yaml.safe_load((tmp_path / "alerts.yml").read_text())["groups"][0]["rules"]
    by_name = {r["alert"]: r for r in rules}
    assert by_name["PorticoLatencyP95Critical"]["expr"].endswith("> 4.5")
    assert by_name["PorticoErrorRateCritical"]["expr"].endswith("> 0.05")
    assert by_name["PorticoSpendCritical"]["expr"].endswith("> 4500")
    assert by_name["PorticoCacheHitRateCritical"]["expr"].endswith("< 0.4")
    assert {r["labels"]["severity"] for r in rules} == {"warning", "critical"}
    md = (tmp_path / "architecture.md").read_text()
    for section in (
        "```mermaid",
        "## Plan search",
        "| step |",
        "## RAG design",
        "## Eval plan",
        "groundedness",
        "## Rollout plan",
        "Shadow",
        "Canary",
        "## Failure modes and runbook",
        "Stale index",
        "Cache serving the wrong tenant",
        "Failover cost blow-up",
        "Provider outage",
        "## Alerts and targets",
    ):
        assert section in md, section
    evals = md.split("## Eval plan")[1].split("\n## ")[0]
    assert "groundedness" in evals and "recall@5" in evals


def test_free_text_rag_is_not_judged_by_exact_match(catalog: Catalog) -> None:
    raw = {**EXAMPLE, "output": {"format": "text"}}
    md = render_all(design(parse_requirements(raw), catalog))["architecture.md"]
    evals = md.split("## Eval plan")[1].split("\n## ")[0]
    assert "not by exact match" in evals and "groundedness" in evals


def _point_at(raw: dict[str, Any], up: FakeUpstream) -> dict[str, Any]:
    for m in raw["models"]:
        if m["provider"] == "openai":
            m["base_url"] = up.base_url
        elif m["provider"] == "anthropic":
            m["base_url"] = up.url
    return raw


async def _serve(d: Design, raw: dict[str, Any], up: FakeUpstream, tmp: Path, message: str) -> list[httpx.Response]:
    env = {
        "OPENAI_API_KEY": "sk-test",
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "MISTRAL_API_KEY": "mk",
        "PORTICO_MASTER_KEY": "sk-master",
    }
    cfg, _ = embedded_stores(_point_at(raw, up), tmp)
    settings = settings_from_dict(cfg, env=env, source="emitted portico.yaml")
    app = create_app(settings)
    await app.gateway.start()
    names = [m.name for m in d.chosen.plan.models] if d.chosen is not None else []
    if d.chosen is not None and d.chosen.plan.kind != "single":
        names.append(ROUTE_NAME)
    out = []
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            for name in names:
                out.append(
                    await client.post(
                        "/v1/chat/completions",
                        headers={"authorization": "Bearer sk-master"},
                        json={"model": name, "messages": [{"role": "user", "content": message}], "temperature": 0},
                    )
                )
    finally:
        await app.gateway.stop()
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
async def test_every_example_round_trips_design_to_serve(catalog: Catalog, tmp_path: Path, path: Path) -> None:
    d = design(load_requirements(path), catalog)
    raw = yaml.safe_load(render_all(d)["portico.yaml"])
    async with FakeUpstream(reply="Reset it from Settings > Account.") as up:
        answers = await _serve(d, raw, up, tmp_path, "How do I reset my password?")
    assert answers, "the plan serves no model"
    for resp in answers:
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"]["content"] == "Reset it from Settings > Account."
    assert up.requests, "no request reached the upstream"


async def test_card_numbers_never_reach_the_model(catalog: Catalog, tmp_path: Path) -> None:
    d = design(load_requirements(REPO / "examples" / "requirements-pci.yaml"), catalog)
    raw = yaml.safe_load(render_all(d)["portico.yaml"])
    async with FakeUpstream(reply="Your card ending 1111 is blocked.") as up:
        answers = await _serve(
            d, raw, up, tmp_path, "My card 4111 1111 1111 1111 was charged twice. Regards, Jane Smith"
        )
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    sent = " ".join(str(x.body) for x in up.requests)
    assert "4111" not in sent and "Jane Smith" not in sent
