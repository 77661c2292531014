"""Each branch of the decision tables, triggered by the requirement that selects it."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from portico.config import settings_from_dict
from portico.design.catalog import Catalog
from portico.design.plan import Design, design
from portico.design.render_config import render_config
from portico.design.requirements import parse_requirements
from portico.errors import ConfigError


def run(catalog: Catalog, raw: dict[str, Any]) -> Design:
    return design(parse_requirements(raw), catalog)


def rules(d: Design) -> set[str]:
    return {x.rule for x in d.decisions()}


def tier(d: Design, name: str) -> str | None:
    t = d.models.get(name)
    return None if t is None else t.model.name


# ---- customisation approach: prompt engineering first, RAG, fine-tuning ---------------------
APPROACH_CASES = [
    ("prompt engineering only", {}, "prompt_engineering", {"CUST-PE"}, {"CUST-RAG", "CUST-FT-FORMAT"}),
    ("knowledge changes often -> rag", {"knowledge": {"changes": "frequently"}}, "rag", {"CUST-RAG"}, set()),
    ("daily changes -> rag", {"knowledge": {"changes": "daily", "size_docs": 10}}, "rag", {"CUST-RAG"}, set()),
    (
        "many static domain docs -> rag",
        {"knowledge": {"domain_specific": True, "changes": "rarely", "size_docs": 500}},
        "rag",
        {"CUST-RAG-SIZE"},
        {"CUST-RAG"},
    ),
    (
        "format not describable -> fine-tuning",
        {"output": {"format": "json", "describable_in_prompt": False}},
        "fine_tuning",
        {"CUST-FT-FORMAT"},
        set(),
    ),
    (
        "latency only a small model meets -> fine-tuning",
        {"latency_p95_ms": 99, "traffic": {"avg_input_tokens": 50, "avg_output_tokens": 2}},
        "fine_tuning",
        {"CUST-FT-LATENCY", "M-SELFHOST-LATENCY"},
        set(),
    ),
    (
        "small static domain knowledge -> prompt first, fine-tune later",
        {"knowledge": {"domain_specific": True, "changes": "never", "size_docs": 10}},
        "prompt_engineering",
        {"CUST-FT-LATER"},
        {"CUST-RAG", "CUST-RAG-SIZE"},
    ),
]


@pytest.mark.parametrize(
    ("name", "raw", "primary", "present", "absent"), APPROACH_CASES, ids=[c[0] for c in APPROACH_CASES]
)
def test_approach_tree(
    catalog: Catalog, name: str, raw: dict[str, Any], primary: str, present: set[str], absent: set[str]
) -> None:
    d = run(catalog, raw)
    assert d.approach.primary == primary
    assert present <= rules(d)
    assert not absent & rules(d)


# ---- model selection by latency / budget / domain / constraints ------------------------------
MODEL_CASES: list[tuple[str, dict[str, Any], dict[str, str | None], set[str]]] = [
    (
        "residency eu keeps only EU and self-hosted models",
        {"data": {"residency": "eu"}, "latency_p95_ms": 60000},
        {"powerful": "mistral-large", "fast": "mistral-small"},
        {"M-RESIDENCY", "T-POWERFUL", "T-FAST"},
    ),
    (
        "a tie within 0.02 goes to the cheaper model (mistral-large 0.84 vs self-hosted llama 0.86)",
        {"data": {"residency": "eu"}, "latency_p95_ms": 60000},
        {"powerful": "mistral-large"},
        set(),
    ),
    (
        "domain: extraction ranks only models strong at it",
        {"task": "extraction", "data": {"residency": "eu"}, "latency_p95_ms": 60000},
        {"powerful": "llama-3.3-70b"},
        {"M-DOMAIN"},
    ),
    (
        "hipaa drops models without a BAA",
        {"compliance": ["hipaa"], "data": {"residency": "eu"}, "latency_p95_ms": 60000},
        {"powerful": "llama-3.3-70b", "fast": None},
        {"M-HIPAA", "OPT-ROUTE-SKIP"},
    ),
    (
        "context window too small",
        {"traffic": {"avg_input_tokens": 150000}, "latency_p95_ms": 60000},
        {"powerful": "gpt-4.1"},
        {"M-CONTEXT"},
    ),
    (
        "self-hosting not warranted by default",
        {"latency_p95_ms": 60000},
        {"powerful": "gpt-4.1", "fast": "mistral-small"},
        {"M-SELFHOST-NOT-NEEDED"},
    ),
    (
        "latency < 100 ms: only self-hosted models",
        {"latency_p95_ms": 99, "traffic": {"avg_input_tokens": 50, "avg_output_tokens": 2}},
        {"powerful": "llama-3.1-8b"},
        {"M-SELFHOST-LATENCY"},
    ),
    (
        "a tight latency target narrows the pool to fast models",
        {"latency_p95_ms": 3000},
        {"powerful": "mistral-small", "fast": None},
        {"T-POWERFUL"},
    ),
    (
        "unreachable latency is flagged, not hidden",
        {"latency_p95_ms": 500},
        {"powerful": "gpt-4.1"},
        {"M-LATENCY-UNMET"},
    ),
    (
        "fallback on another provider's endpoint",
        {"latency_p95_ms": 60000},
        {"fallback": "claude-3-5-sonnet"},
        {"T-FALLBACK"},
    ),
    (
        "no hosted fallback on another endpoint -> embedded local model",
        {"data": {"residency": "eu"}, "latency_p95_ms": 60000},
        {"fallback": "local"},
        {"T-FALLBACK-LOCAL"},
    ),
]


@pytest.mark.parametrize(("name", "raw", "tiers", "present"), MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_model_selection(
    catalog: Catalog, name: str, raw: dict[str, Any], tiers: dict[str, str | None], present: set[str]
) -> None:
    d = run(catalog, raw)
    for t, model in tiers.items():
        assert tier(d, t) == model, t
    assert present <= rules(d)


def test_unmet_latency_offers_computed_relaxations(catalog: Catalog) -> None:
    d = run(catalog, {"latency_p95_ms": 500})
    unmet = {u.requirement: u for u in d.unmet}
    changes = [r["change"] for r in unmet["latency_p95_ms"].relaxations]
    assert any("time to first token" in c for c in changes)
    assert any(c.startswith("raise latency_p95_ms") for c in changes)


# ---- cost optimisations -----------------------------------------------------------------------
OPT_CASES = [
    ("repeats -> cache", {"traffic": {"repeat_query_share": 0.3}}, "OPT-CACHE", "OPT-CACHE-SKIP"),
    ("no repeats -> no cache", {"traffic": {"repeat_query_share": 0.01}}, "OPT-CACHE-SKIP", "OPT-CACHE"),
    ("generous latency -> cascade", {"latency_p95_ms": 60000}, "OPT-CASCADE", "OPT-ROUTE"),
    ("tight latency -> routing", {"latency_p95_ms": 5000}, "OPT-ROUTE", "OPT-CASCADE"),
    ("batch_ok -> batch API", {"batch_ok": True}, "OPT-BATCH", "OPT-BATCH-SKIP"),
    ("interactive -> no batch", {"batch_ok": False}, "OPT-BATCH-SKIP", "OPT-BATCH"),
    ("long prompts -> compression", {"traffic": {"avg_input_tokens": 2000}}, "OPT-COMPRESS", "OPT-COMPRESS-SKIP"),
    ("short prompts -> no compression", {"traffic": {"avg_input_tokens": 100}}, "OPT-COMPRESS-SKIP", "OPT-COMPRESS"),
]


@pytest.mark.parametrize(("name", "raw", "present", "absent"), OPT_CASES, ids=[c[0] for c in OPT_CASES])
def test_cost_optimisations(catalog: Catalog, name: str, raw: dict[str, Any], present: str, absent: str) -> None:
    base: dict[str, Any] = {"latency_p95_ms": 60000}
    base.update(raw)
    d = run(catalog, base)
    assert present in rules(d)
    assert absent not in rules(d)
    applied = [s.rule for s in d.cost.steps]
    if not present.endswith("SKIP"):
        assert present in applied
        step = d.cost.steps[applied.index(present)]
        assert step.saving_usd > 0, "an applied optimisation must save money"


def test_cache_hit_rate_comes_from_the_repeat_share(catalog: Catalog) -> None:
    slow = run(catalog, {"traffic": {"repeat_query_share": 0.4}, "knowledge": {"changes": "rarely"}})
    fast = run(catalog, {"traffic": {"repeat_query_share": 0.4}, "knowledge": {"changes": "daily"}})
    hit = {x.rule: x.numbers for x in slow.cost.decisions}["OPT-CACHE"]["expected_hit_rate"]
    hit_fast = {x.rule: x.numbers for x in fast.cost.decisions}["OPT-CACHE"]["expected_hit_rate"]
    assert hit == pytest.approx(0.4 * catalog.a("semantic_cache_capture"))
    assert hit_fast == pytest.approx(0.4 * catalog.a("cache_capture_fast_changing_knowledge"))


# ---- budget ------------------------------------------------------------------------------------
def test_budget_met_and_unmet(catalog: Catalog, example: dict[str, Any]) -> None:
    d = run(catalog, example)
    unmet = {u.requirement: u for u in d.unmet}
    assert "budget.usd_per_month" in unmet
    relax = unmet["budget.usd_per_month"].relaxations
    assert any(r["meets_budget"] and "fast tier" in r["change"] for r in relax)
    assert d.to_json()["cost"]["within_budget"] is False
    example["budget"]["usd_per_month"] = 100000
    rich = run(catalog, example)
    assert "budget.usd_per_month" not in {u.requirement for u in rich.unmet}
    assert rich.to_json()["cost"]["within_budget"] is True


# ---- capacity ----------------------------------------------------------------------------------
CAPACITY_CASES = [
    ("trickle: one replica, embedded state", {"traffic": {"requests_per_day": 1000}}, 1, "CAP-SQLITE"),
    (
        "production: two replicas for availability",
        {"traffic": {"requests_per_day": 100000, "peak_rps": 5}},
        2,
        "CAP-POSTGRES",
    ),
    (
        "heavy: CPU-bound replicas",
        {"traffic": {"peak_rps": 400, "repeat_query_share": 0.5}, "data": {"pii": True}},
        9,
        "CAP-REDIS",
    ),
]


@pytest.mark.parametrize(("name", "raw", "replicas", "rule"), CAPACITY_CASES, ids=[c[0] for c in CAPACITY_CASES])
def test_capacity(catalog: Catalog, name: str, raw: dict[str, Any], replicas: int, rule: str) -> None:
    d = run(catalog, raw)
    # heavy: 0.5 + 1 + 4 (cache) + 8 (PII) = 13.5 ms x 400 rps / 0.6 = 9.0 cores -> 9 replicas
    assert d.gateway.replicas == replicas
    assert rule in rules(d)


def test_self_hosted_tier_gets_gpu_servers(catalog: Catalog) -> None:
    d = run(
        catalog,
        {
            "compliance": ["hipaa"],
            "data": {"residency": "eu"},
            "latency_p95_ms": 60000,
            "traffic": {"peak_rps": 10, "avg_output_tokens": 300},
        },
    )
    server = next(x for x in d.model_capacity if x.rule == "CAP-SELFHOST")
    # 10 rps x 300 tokens = 3,000 tok/s over 1,500 per 2xH100 server -> 2 servers.
    assert server.numbers["servers"] == 2


# ---- safety and compliance ---------------------------------------------------------------------
SAFETY_CASES = [
    ("baseline", {}, {"SAFE-AUTH", "SAFE-INJECTION", "SAFE-LIMITS", "SAFE-AUDIT"}, 30),
    ("pii", {"data": {"pii": True}}, {"SAFE-PII", "SAFE-NO-BODIES"}, 30),
    (
        "gdpr in the eu",
        {"compliance": ["gdpr"], "data": {"residency": "eu"}},
        {"GDPR-RESIDENCY", "GDPR-DPA", "GDPR-ERASURE"},
        30,
    ),
    ("gdpr outside the eu", {"compliance": ["gdpr"]}, {"GDPR-TRANSFER"}, 30),
    ("soc2", {"compliance": ["soc2"]}, {"SOC2-AUDIT", "SOC2-ACCESS", "SOC2-MONITOR"}, 365),
    ("hipaa", {"compliance": ["hipaa"]}, {"HIPAA-BAA", "HIPAA-PHI", "HIPAA-TLS"}, 2190),
    ("pci", {"compliance": ["pci"]}, {"PCI-PAN", "PCI-SCOPE"}, 365),
    ("json output", {"output": {"format": "json"}}, {"SAFE-SCHEMA"}, 30),
]


@pytest.mark.parametrize(("name", "raw", "controls", "retention"), SAFETY_CASES, ids=[c[0] for c in SAFETY_CASES])
def test_safety_checklist(catalog: Catalog, name: str, raw: dict[str, Any], controls: set[str], retention: int) -> None:
    d = run(catalog, raw)
    assert controls <= {c.id for c in d.controls}
    assert d.retention_days == retention


def test_hipaa_never_selects_a_model_without_a_baa(catalog: Catalog) -> None:
    d = run(catalog, {"compliance": ["hipaa"], "latency_p95_ms": 60000})
    assert all(t.model.baa for t in d.models.tiers)


# ---- determinism, explanations, input errors ---------------------------------------------------
def test_design_is_deterministic_and_explained(catalog: Catalog, example: dict[str, Any]) -> None:
    a = json.dumps(run(catalog, example).to_json(), sort_keys=True)
    b = json.dumps(run(catalog, example).to_json(), sort_keys=True)
    assert a == b
    d = run(catalog, example)
    assert all(x.rule and x.reason for x in d.decisions())
    for t in d.to_json()["tiers"]:
        assert t["reasons"] and t["reasons"][0]["rule"].startswith("T-")


def test_defaults_are_stated(catalog: Catalog) -> None:
    out = run(catalog, {"use_case": "x"}).to_json()["defaults_applied"]
    assert out["latency_p95_ms"] == 3000
    assert out["traffic"]["requests_per_day"] == 10000
    assert out["compliance"] == []


@pytest.mark.parametrize(
    "raw",
    [
        {"latency_p95_ms": -1},
        {"compliance": ["iso"]},
        {"bogus": 1},
        {"traffic": {"repeat_query_share": 2}},
        ["not", "a", "mapping"],
    ],
)
def test_bad_requirements_name_the_field(raw: Any) -> None:
    with pytest.raises(ConfigError) as err:
        parse_requirements(raw)
    assert "requirements" in err.value.message


def test_no_eligible_model_is_an_unmet_requirement(catalog: Catalog) -> None:
    d = run(catalog, {"traffic": {"avg_input_tokens": 5_000_000}})
    assert [u.rule for u in d.unmet] == ["M-NONE"]
    assert d.models.tiers == ()  # the embedded model is excluded by its context window too
    assert settings_from_dict(yaml.safe_load(render_config(d)), env={}).models == []


REQUIREMENTS = st.fixed_dictionaries(
    {
        "latency_p95_ms": st.floats(1, 120_000),
        "traffic": st.fixed_dictionaries(
            {
                "requests_per_day": st.floats(0, 5e6),
                "peak_rps": st.floats(0, 2000),
                "growth_per_month": st.floats(0, 1),
                "avg_input_tokens": st.floats(0, 300_000),
                "avg_output_tokens": st.floats(0, 4000),
                "repeat_query_share": st.floats(0, 1),
            }
        ),
        "budget": st.fixed_dictionaries({"usd_per_month": st.floats(0, 1e6)}),
        "knowledge": st.fixed_dictionaries(
            {
                "domain_specific": st.booleans(),
                "changes": st.sampled_from(["never", "rarely", "monthly", "weekly", "frequently", "daily", "realtime"]),
                "size_docs": st.integers(0, 100_000),
            }
        ),
        "output": st.fixed_dictionaries({"describable_in_prompt": st.booleans()}),
        "data": st.fixed_dictionaries(
            {
                "sensitivity": st.sampled_from(["low", "medium", "high"]),
                "pii": st.booleans(),
                "residency": st.sampled_from(["any", "eu", "us"]),
            }
        ),
        "compliance": st.lists(st.sampled_from(["gdpr", "soc2", "hipaa", "pci"]), unique=True),
        "task": st.sampled_from(["general", "code", "reasoning", "extraction"]),
        "batch_ok": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None)
@given(raw=REQUIREMENTS)
def test_any_requirements_give_a_consistent_design(catalog: Catalog, raw: dict[str, Any]) -> None:
    d = run(catalog, raw)
    again = run(catalog, raw)
    assert json.dumps(d.to_json(), sort_keys=True) == json.dumps(again.to_json(), sort_keys=True)
    totals = [s.total for s in d.cost.steps]
    assert all(t >= 0 for t in totals)
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(totals)), "an optimisation raised cost"
    if "hipaa" in raw["compliance"]:
        assert all(t.model.baa for t in d.models.tiers)
    if raw["data"]["residency"] != "any":
        assert all(t.model.hosting != "api" or raw["data"]["residency"] in t.model.regions for t in d.models.tiers)
    settings_from_dict(yaml.safe_load(render_config(d)), env={})  # the emitted config always validates
