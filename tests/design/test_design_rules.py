"""Each branch of the decision tables, triggered by the requirement that selects it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from portico.config import settings_from_dict
from portico.design.artifacts import render_all
from portico.design.catalog import Catalog
from portico.design.plan import Design, design
from portico.design.render_config import render_config
from portico.design.requirements import parse_requirements
from portico.errors import ConfigError


def run(catalog: Catalog, raw: dict[str, Any]) -> Design:
    return design(parse_requirements(raw), catalog)


def rules(d: Design) -> set[str]:
    return {x.rule for x in d.decisions()}


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
        "latency under 100 ms -> fine-tuned small model (any output length)",
        {"latency_p95_ms": 99, "traffic": {"avg_input_tokens": 50, "avg_output_tokens": 40}},
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


# ---- hard constraints: which models may serve at all ---------------------------------------------
EXCLUSION_CASES: list[tuple[str, dict[str, Any], str, set[str]]] = [
    ("residency eu drops US-hosted APIs", {"data": {"residency": "eu"}}, "M-RESIDENCY", {"gpt-4.1", "claude-3-haiku"}),
    (
        "a field's residency binds the whole request",
        {"data": {"fields": {"iban": {"kind": "iban", "residency": "eu"}}}},
        "M-RESIDENCY",
        {"gpt-4.1"},
    ),
    ("hipaa drops models without a BAA", {"compliance": ["hipaa"]}, "M-HIPAA", {"mistral-small", "mistral-large"}),
    ("in-house data drops every hosted API", {"data": {"in_house": True}}, "M-IN-HOUSE", {"gpt-4.1", "mistral-small"}),
    ("context window too small", {"traffic": {"avg_input_tokens": 150000}}, "M-CONTEXT", {"mistral-small", "local"}),
    ("tool use drops the embedded model", {"agent": {"tool_use": True}}, "M-TOOLS", {"local"}),
    ("code drops models not strong at it", {"task": "code"}, "M-DOMAIN", {"gpt-4o-mini", "mistral-small"}),
    ("self-hosting not warranted by default", {}, "M-SELFHOST-NOT-NEEDED", {"llama-3.3-70b", "llama-3.1-8b"}),
    ("p95 < 100 ms drops hosted APIs", {"latency_p95_ms": 80}, "M-SELFHOST-LATENCY", {"gpt-4.1-nano"}),
]


@pytest.mark.parametrize(("name", "raw", "rule", "models"), EXCLUSION_CASES, ids=[c[0] for c in EXCLUSION_CASES])
def test_hard_constraints_exclude_models(
    catalog: Catalog, name: str, raw: dict[str, Any], rule: str, models: set[str]
) -> None:
    d = run(catalog, raw)
    dropped = {x.choice.removeprefix("exclude ") for x in d.result.excluded if x.rule == rule}
    assert models <= dropped
    assert d.chosen is None or not {m.name for m in d.chosen.plan.models} & dropped


def test_contradictory_field_residencies_are_an_error() -> None:
    with pytest.raises(ConfigError, match="no region satisfies both"):
        parse_requirements({"data": {"fields": {"a": {"residency": "eu"}, "b": {"residency": "us"}}}})


# ---- levers: cache scope, compression, guards -----------------------------------------------------
CACHE_CASES = [
    ("no repeats -> no cache", {"traffic": {"repeat_query_share": 0.01}}, "off", None, "OPT-CACHE-SKIP"),
    (
        "low sensitivity -> one shared cache",
        {"data": {"sensitivity": "low"}},
        "semantic",
        "global",
        "CACHE-SCOPE-GLOBAL",
    ),
    ("medium -> per team", {}, "semantic", "team", "CACHE-SCOPE-TEAM"),
    ("personal data -> per key", {"data": {"pii": True}}, "semantic", "key", "CACHE-SCOPE-KEY"),
    (
        "health data with many repeats -> exact, per key, never a shared semantic cache",
        {"data": {"fields": {"notes": {"kind": "health"}}}, "traffic": {"repeat_query_share": 0.8}},
        "exact",
        "key",
        "CACHE-HEALTH",
    ),
    ("hipaa -> exact, per key", {"compliance": ["hipaa"]}, "exact", "key", "CACHE-HEALTH"),
]


@pytest.mark.parametrize(("name", "raw", "tier", "partition", "rule"), CACHE_CASES, ids=[c[0] for c in CACHE_CASES])
def test_cache_scope_is_safe_for_the_data(
    catalog: Catalog, name: str, raw: dict[str, Any], tier: str, partition: str | None, rule: str
) -> None:
    base: dict[str, Any] = {"traffic": {"repeat_query_share": 0.4}}
    for k, v in raw.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
    d = run(catalog, base)
    assert d.cache.tier == tier
    if partition is not None:
        assert d.cache.partition == partition
    assert rule in rules(d)
    cfg = yaml.safe_load(render_config(d))["cache"]
    assert cfg["enabled"] is (tier != "off")
    if tier != "off":
        assert (cfg["tier"], cfg["partition"]) == (tier, partition)


def test_cache_hit_rate_uses_the_measured_semantic_recall(catalog: Catalog, measurements: Any) -> None:
    d = run(catalog, {"traffic": {"repeat_query_share": 0.4, "exact_repeat_share": 0.1}})
    recall = measurements.v("semantic_cache_recall")
    assert d.cache.hit_rate == pytest.approx(0.1 + 0.3 * recall)
    step = next(s for s in d.steps if s.rule == "OPT-CACHE")
    assert "docs/cache.md" in step.source and "recall" in step.source


def test_compression_is_not_counted_without_the_feature_or_a_measurement(catalog: Catalog) -> None:
    d = run(catalog, {"traffic": {"avg_input_tokens": 3000}})
    assert rules(d) & {"OPT-COMPRESS-UNAVAILABLE", "OPT-COMPRESS-UNMEASURED", "OPT-COMPRESS"}
    if "OPT-COMPRESS" not in rules(d):
        assert d.compression == 0.0 and all(s.rule != "OPT-COMPRESS" for s in d.steps)


def test_guards_run_first_when_nothing_may_reach_the_provider(catalog: Catalog) -> None:
    plain = run(catalog, {})
    strict = run(catalog, {"compliance": ["soc2"]})
    assert plain.guards_parallel and not strict.guards_parallel
    gp = yaml.safe_load(render_config(plain))["guards"]["default"]
    assert gp["parallel"] is True and gp["canary"] is True


# ---- the search's objective ------------------------------------------------------------------------
def test_quality_is_compared_with_min_accuracy(catalog: Catalog) -> None:
    d = run(catalog, {"quality": {"min_accuracy": 0.95}, "latency_p95_ms": 60000})
    assert d.chosen is not None and "quality" in d.chosen.broken
    assert "quality" in d.summary() and not d.result.feasible
    assert "highest_quality" in d.result.pareto


def test_accuracy_critical_buys_the_most_quality_the_budget_allows(catalog: Catalog) -> None:
    d = run(catalog, {"quality": {"min_accuracy": 0.85, "accuracy_critical": True}, "latency_p95_ms": 60000})
    assert d.chosen is not None and d.chosen.plan.kind == "ensemble"
    assert d.chosen.quality == max(e.quality for e in d.result.estimates if e.feasible)
    route = yaml.safe_load(render_config(d))["routing"]["routes"][0]
    assert route["policy"] == "ensemble" and len(route["models"]) == 3


def test_fallback_is_priced_sanely_not_the_best_model(catalog: Catalog) -> None:
    d = run(catalog, {"quality": {"min_accuracy": 0.8}, "latency_p95_ms": 60000})
    assert d.chosen is not None and d.fallback is not None
    primary = max(d.chosen.plan.models, key=lambda m: m.price.output_per_mtok if m.price else 0)
    assert d.fallback.price is not None and primary.price is not None
    assert d.fallback.endpoint not in {m.endpoint for m in d.chosen.plan.models}
    assert d.fallback.price.output_per_mtok <= 2 * primary.price.output_per_mtok
    assert d.fallback.name != "claude-3-5-sonnet"  # 25x gpt-4.1-nano's output price


def test_unmet_latency_names_the_binding_constraint(catalog: Catalog) -> None:
    d = run(catalog, {"latency_p95_ms": 500, "quality": {"min_accuracy": 0.7}})
    assert not d.result.feasible
    assert ("latency_p95",) in d.result.binding
    assert "fastest" in d.result.pareto


# ---- capacity ----------------------------------------------------------------------------------
CAPACITY_CASES = [
    ("trickle: one embedded process", {"traffic": {"requests_per_day": 1000}}, 1, "CAP-SQLITE"),
    (
        "production: two replicas for availability",
        {"traffic": {"requests_per_day": 100000, "peak_rps": 5}},
        2,
        "CAP-POSTGRES",
    ),
    ("heavy: CPU-bound replicas", {"traffic": {"peak_rps": 400, "avg_input_tokens": 316}}, 8, "CAP-REDIS"),
]


@pytest.mark.parametrize(("name", "raw", "replicas", "rule"), CAPACITY_CASES, ids=[c[0] for c in CAPACITY_CASES])
def test_capacity(catalog: Catalog, name: str, raw: dict[str, Any], replicas: int, rule: str) -> None:
    d = run(catalog, raw)
    # heavy: 0.928 (gateway, Redis) + 10.08 (guards at 316 tokens, measured) = 11.01 ms x 400 rps / 0.6
    # = 7.3 cores -> 8 replicas
    assert d.gateway.replicas == replicas
    assert rule in rules(d)


# ---- safety and compliance ---------------------------------------------------------------------
SAFETY_CASES = [
    ("baseline", {}, {"SAFE-AUTH", "SAFE-INJECTION", "SAFE-CONTENT", "SAFE-LIMITS", "SAFE-AUDIT"}, 30),
    ("pii", {"data": {"pii": True}}, {"SAFE-PII", "SAFE-NO-BODIES"}, 30),
    ("gdpr in the eu", {"compliance": ["gdpr"], "data": {"residency": "eu"}}, {"GDPR-RESIDENCY", "GDPR-DPA"}, 30),
    ("gdpr outside the eu", {"compliance": ["gdpr"]}, {"GDPR-TRANSFER"}, 30),
    ("soc2", {"compliance": ["soc2"]}, {"SOC2-AUDIT", "SOC2-ACCESS", "SOC2-MONITOR"}, 365),
    ("hipaa", {"compliance": ["hipaa"]}, {"HIPAA-BAA", "HIPAA-PHI", "HIPAA-TLS", "SAFE-HANDOFF"}, 2190),
    ("pci", {"compliance": ["pci"]}, {"PCI-PAN", "PCI-SCOPE"}, 365),
    ("json output", {"output": {"format": "json"}}, {"SAFE-SCHEMA"}, 30),
    ("agents that act get a person", {"agent": {"tool_use": True, "takes_actions": True}}, {"SAFE-HANDOFF"}, 30),
]


@pytest.mark.parametrize(("name", "raw", "controls", "retention"), SAFETY_CASES, ids=[c[0] for c in SAFETY_CASES])
def test_safety_checklist(catalog: Catalog, name: str, raw: dict[str, Any], controls: set[str], retention: int) -> None:
    d = run(catalog, raw)
    assert controls <= {c.id for c in d.controls}
    assert d.retention_days == retention


def test_gdpr_retention_is_a_maximum(catalog: Catalog) -> None:
    d = run(catalog, {"compliance": ["gdpr", "soc2"], "data": {"pii": True}})
    why = d.control_decisions[0].reason
    assert "maximum" in why and "deleted after 365 days" in why
    md = render_all(d)["architecture.md"]
    assert "retention is a *maximum*" in md
    assert yaml.safe_load(render_config(d))["storage"]["retention_days"] == 365


def test_pci_card_numbers_are_redacted_not_pseudonymized(catalog: Catalog) -> None:
    cfg = yaml.safe_load(render_config(run(catalog, {"compliance": ["pci"], "data": {"pii": True}})))
    guards = cfg["guards"]["default"]
    card_in = [g for g in guards["input"] if g["type"] == "pii" and "CREDIT_CARD" in g["entities"]]
    assert [g["action"] for g in card_in] == ["redact"]
    assert any(g["type"] == "pii" and "CREDIT_CARD" in g["entities"] for g in guards["output"])
    assert all("CREDIT_CARD" not in g["entities"] for g in guards["input"] if g["action"] == "pseudonymize")
    assert cfg["storage"]["store_prompts"] is False


def test_field_kinds_choose_the_pii_entities(catalog: Catalog) -> None:
    raw = {"data": {"fields": {"who": {"kind": "name"}, "mail": {"kind": "email"}, "card": {"kind": "card_number"}}}}
    cfg = yaml.safe_load(render_config(run(catalog, raw)))
    pii = next(g for g in cfg["guards"]["default"]["input"] if g["type"] == "pii")
    assert sorted(pii["entities"]) == ["CREDIT_CARD", "EMAIL_ADDRESS", "PERSON"]


def test_own_estimate_crossing_a_critical_level_is_in_the_summary(catalog: Catalog) -> None:
    d = run(catalog, {"traffic": {"repeat_query_share": 0.3}, "data": {"pii": True}, "latency_p95_ms": 60000})
    assert d.cache.hit_rate < 0.4
    assert any("cache hit rate" in c for c in d.critical)
    assert "critical" in d.summary()


# ---- determinism, explanations, input errors ---------------------------------------------------
def test_design_is_deterministic_and_explained(catalog: Catalog, example: dict[str, Any]) -> None:
    a = json.dumps(run(catalog, example).to_json(), sort_keys=True)
    b = json.dumps(run(catalog, example).to_json(), sort_keys=True)
    assert a == b
    d = run(catalog, example)
    assert all(x.rule and x.reason for x in d.decisions())


def test_defaults_are_stated(catalog: Catalog) -> None:
    out = run(catalog, {"use_case": "x"}).to_json()["defaults_applied"]
    assert out["latency_p95_ms"] == 3000
    assert out["traffic"]["requests_per_day"] == 10000
    assert out["compliance"] == []
    batch = run(catalog, {"batch_ok": True}).to_json()["defaults_applied"]
    assert batch["latency_p95_ms"] is None  # batch without a p95 requirement


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"latency_p95_ms": -1}, "latency_p95_ms"),
        ({"compliance": ["iso"]}, "compliance"),
        ({"bogus": 1}, "bogus"),
        ({"traffic": {"repeat_query_share": 2}}, "traffic.repeat_query_share"),
        ({"traffic": {"qps": 2}}, "traffic.qps"),
        ({"data": {"fields": {"card": {"kind": "card_number", "colour": "red"}}}}, "data.fields.card.colour"),
        (["not", "a", "mapping"], "mapping"),
    ],
)
def test_bad_requirements_name_the_field(raw: Any, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_requirements(raw)
    assert field in err.value.message
    if field in ("bogus", "traffic.qps", "data.fields.card.colour"):
        assert "unknown field" in err.value.message


def test_no_eligible_model_is_reported(catalog: Catalog) -> None:
    d = run(catalog, {"traffic": {"avg_input_tokens": 5_000_000}})
    assert d.chosen is None and "No catalog model" in d.summary()
    assert settings_from_dict(yaml.safe_load(render_config(d)), env={}).models == []


REQUIREMENTS = st.fixed_dictionaries(
    {
        "latency_p95_ms": st.one_of(st.none(), st.floats(1, 120_000)),
        "ttft_ms": st.one_of(st.none(), st.floats(1, 5_000)),
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
        "quality": st.fixed_dictionaries({"min_accuracy": st.floats(0, 1), "accuracy_critical": st.booleans()}),
        "agent": st.fixed_dictionaries(
            {"tool_use": st.booleans(), "steps_per_request": st.floats(1, 10), "takes_actions": st.booleans()}
        ),
        "budget": st.fixed_dictionaries({"usd_per_month": st.floats(0, 1e6)}),
        "knowledge": st.fixed_dictionaries(
            {
                "domain_specific": st.booleans(),
                "changes": st.sampled_from(["never", "rarely", "monthly", "weekly", "frequently", "daily", "realtime"]),
                "size_docs": st.integers(0, 100_000),
            }
        ),
        "output": st.fixed_dictionaries(
            {
                "describable_in_prompt": st.booleans(),
                "format": st.sampled_from(["text", "json", "markdown", "code", "label"]),
                "streaming": st.booleans(),
            }
        ),
        "data": st.fixed_dictionaries(
            {
                "sensitivity": st.sampled_from(["low", "medium", "high"]),
                "pii": st.booleans(),
                "residency": st.sampled_from(["any", "eu", "us"]),
                "in_house": st.booleans(),
                "fields": st.dictionaries(
                    st.sampled_from(["a", "b", "c"]),
                    st.fixed_dictionaries(
                        {
                            "kind": st.sampled_from(["name", "card_number", "health", "email", "other"]),
                            "sensitivity": st.sampled_from(["low", "medium", "high"]),
                        }
                    ),
                    max_size=3,
                ),
            }
        ),
        "compliance": st.lists(st.sampled_from(["gdpr", "soc2", "hipaa", "pci"]), unique=True),
        "task": st.sampled_from(["general", "code", "reasoning", "extraction", "classification"]),
        "batch_ok": st.booleans(),
    }
)


@settings(max_examples=80, deadline=None)
@given(raw=REQUIREMENTS)
def test_any_requirements_give_a_consistent_design(catalog: Catalog, raw: dict[str, Any]) -> None:
    d = run(catalog, raw)
    again = run(catalog, raw)
    assert json.dumps(d.to_json(), sort_keys=True) == json.dumps(again.to_json(), sort_keys=True)
    assert all(s.total >= 0 for s in d.steps)
    models = d.serving_models()
    if "hipaa" in raw["compliance"]:
        assert all(m.baa for m in models)
    if raw["data"]["residency"] != "any":
        assert all(m.hosting != "api" or raw["data"]["residency"] in m.regions for m in models)
    if raw["data"]["in_house"]:
        assert all(m.hosting != "api" for m in models)
    if raw["data"]["fields"] and any(f["kind"] == "health" for f in raw["data"]["fields"].values()):
        assert d.cache.tier != "semantic"
    if d.chosen is not None and d.result.feasible and not raw["quality"]["accuracy_critical"]:
        # the cheapest feasible plan: no other feasible candidate is cheaper
        assert all(e.total >= d.chosen.total - 1e-6 for e in d.result.estimates if e.feasible)
    cfg = yaml.safe_load(render_config(d))
    settings_from_dict(cfg, env={})  # the emitted config always validates
    kinds = {g["type"] for g in cfg["guards"]["default"]["input"]}
    assert {"injection", "content"} <= kinds


def test_batch_plans_turn_the_batch_api_on_at_the_catalog_discount(catalog: Catalog) -> None:
    d = run(catalog, {"batch_ok": True, "quality": {"min_accuracy": 0.8}})
    assert d.chosen is not None and d.chosen.plan.batch
    cfg = yaml.safe_load(render_config(d))
    assert cfg["batch"] == {"enabled": True}
    for m in cfg["models"]:
        if "price" in m:
            assert m["batch_discount"] == catalog.model(m["name"]).price.batch_discount  # type: ignore[union-attr]
    step = next(s for s in d.steps if s.rule == "OPT-BATCH")
    assert "provider's batch endpoint" in step.source
    interactive = yaml.safe_load(render_config(run(catalog, {"quality": {"min_accuracy": 0.8}})))
    assert "batch" not in interactive


def test_rag_plans_configure_the_gateways_vector_stores(catalog: Catalog, example: dict[str, Any]) -> None:
    from portico.design.levers import available_sections

    d = run(catalog, example)
    cfg = yaml.safe_load(render_config(d))
    if "rag" not in available_sections():
        assert "rag" not in cfg and "RAG stores" in render_config(d)  # named as not yet available
        return
    # 11 replicas share one index: pgvector; chunks fit MiniLM; 900-token prompts leave 630 tokens: 3 passages
    assert cfg["rag"]["backend"] == "pgvector" and cfg["rag"]["mode"] == "hybrid"
    assert cfg["rag"]["chunking"] == {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 40}
    assert cfg["rag"]["answer_k"] == 3 and cfg["rag"]["answer_model"] == d.chosen.plan.primary.name  # type: ignore[union-attr]
    small = run(catalog, {**example, "traffic": {"requests_per_day": 100}})
    assert yaml.safe_load(render_config(small))["rag"]["backend"] == "embedded"
