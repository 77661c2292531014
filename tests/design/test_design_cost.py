"""The cost model and the plan search against examples computed by hand in the comments
(two hosted models with round prices, round measurements: see conftest)."""

from __future__ import annotations

from typing import Any

import pytest

from portico.design.catalog import CatalogModel
from portico.design.plan import design
from portico.design.pricing import Load, monthly_cost, servers_needed
from portico.design.requirements import parse_requirements

from .conftest import mini_catalog, mini_measurements


def _req(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "latency_p95_ms": 100000,
        "quality": {"min_accuracy": 0.85},
        "traffic": {
            "requests_per_day": 1000,
            "avg_input_tokens": 1000,
            "avg_output_tokens": 500,
            "repeat_query_share": 0.2,
            "exact_repeat_share": 0.1,
        },
    }
    raw.update(over)
    return raw


def test_chosen_plan_and_every_step_match_the_hand_computed_example() -> None:
    # 1000 req/day x 30 = 30,000 req/month; big (0.90) costs (1000*10 + 500*30)/1e6 = $0.025 per request,
    # small (0.80) (1000*1 + 500*2)/1e6 = $0.002. Peak 3x average = 0.035 rps < 1: one embedded process, $0.
    # Cache: 10% exact repeats + 10% paraphrases x 0.2 recall = 12% hits -> 26,400 model calls.
    # 0.85 needs half the 0.80 -> 0.90 gap; the test router curve is a line, so 50% goes to big.
    # 1,000-token prompts reach the compression stage's threshold: it keeps half of them, so a request
    # then costs (500*1 + 500*2)/1e6 = $0.0015 on small and (500*10 + 500*30)/1e6 = $0.02 on big.
    d = design(parse_requirements(_req()), mini_catalog(), mini_measurements())
    assert d.chosen is not None and d.chosen.feasible
    assert (d.chosen.plan.kind, d.chosen.plan.fast.name, d.chosen.plan.primary.name) == ("route", "small", "big")  # type: ignore[union-attr]
    assert d.chosen.plan.strong_share == pytest.approx(0.5)
    assert d.cache.hit_rate == pytest.approx(0.12)
    steps = [(s.rule, round(s.total, 2)) for s in d.steps]
    assert steps == [
        ("COST-BASELINE", 750.0),  # 30,000 x 0.025
        ("OPT-CACHE", 660.0),  # 26,400 x 0.025
        ("OPT-ROUTE", 356.4),  # 13,200 x 0.002 + 13,200 x 0.025 = 26.4 + 330
        ("OPT-COMPRESS", 283.8),  # 13,200 x 0.0015 + 13,200 x 0.02 = 19.8 + 264
    ]
    assert d.chosen.components == pytest.approx({"small": 19.8, "big": 264.0, "gateway (embedded single process)": 0.0})
    # The cascade costs more: small on all 26,400 (39.6) + its self-check reading 500 + 500 tokens and
    # writing 4 (26,400 x 1,008 x 1e-6 = 26.61) + big on 13,200 (264) = 330.21.
    cascade = next(e for e in d.result.estimates if e.plan.kind == "cascade" and abs(e.plan.strong_share - 0.5) < 1e-6)
    assert cascade.total == pytest.approx(330.2112)
    # The runner-up is the cascade: it also meets every constraint but costs $46.41 more.
    assert d.result.runner_up is not None and d.result.runner_up.plan.kind == "cascade"


def test_batch_halves_the_model_spend() -> None:
    d = design(parse_requirements(_req(batch_ok=True)), mini_catalog(), mini_measurements())
    assert d.chosen is not None and d.chosen.plan.batch
    assert [s.rule for s in d.steps][-2:] == ["OPT-BATCH", "OPT-COMPRESS"]
    assert d.total == pytest.approx(141.9)  # 283.8 x (1 - 0.5 batch discount)
    assert d.chosen.p95_ms is None  # batch: no interactive p95 to meet


def test_budget_binds_and_the_pareto_set_is_costed() -> None:
    # $250: the route at 50% costs $283.80. Share s within budget: 39.6 + 488.4 s <= 250 -> s <= 0.4308,
    # which recovers 43.1% of the gap: quality 0.8431 < 0.85. No plan meets both: quality or budget binds.
    d = design(parse_requirements(_req(budget={"usd_per_month": 250})), mini_catalog(), mini_measurements())
    assert not d.result.feasible
    assert set(d.result.binding) == {("quality",), ("budget",)}
    pareto = d.result.pareto
    assert pareto["cheapest_meeting_quality"].total == pytest.approx(283.8)
    best = pareto["best_within_budget"]
    assert best.plan.kind == "route" and best.plan.strong_share == pytest.approx(0.4308, abs=1e-3)
    assert best.total <= 250 and best.quality == pytest.approx(0.8431, abs=1e-3)
    assert "budget" in best.plan.share_basis


def test_quality_target_met_by_the_cheap_model_needs_no_router() -> None:
    d = design(parse_requirements(_req(quality={"min_accuracy": 0.8})), mini_catalog(), mini_measurements())
    assert d.chosen is not None and d.chosen.plan.label == "small"
    assert d.total == pytest.approx(26_400 * 0.0015)


def test_fixed_costs_follow_the_deployment_size() -> None:
    # 100,000 req/day -> peak 3.47 rps >= 1: two replicas ($10 each), Redis $50, PostgreSQL $60.
    raw = _req()
    raw["traffic"]["requests_per_day"] = 100_000
    d = design(parse_requirements(raw), mini_catalog(), mini_measurements())
    assert d.chosen is not None
    infra = {k: v for k, v in d.chosen.components.items() if k not in ("small", "big")}
    assert infra == {"gateway (2 replicas)": 20.0, "redis": 50.0, "postgres": 60.0}
    small = design(parse_requirements(_req()), mini_catalog(), mini_measurements())
    assert small.gateway.replicas == 1 and small.gateway.infra_costs(mini_catalog()) == {
        "gateway (embedded single process)": 0.0
    }


def _self_hosted() -> CatalogModel:
    return CatalogModel.model_validate(
        {
            "name": "gpu",
            "provider": "openai",
            "hosting": "self_hosted",
            "base_url": "http://gpu:8000/v1",
            "context_window": 8192,
            "serving": {
                "runtime": "vLLM",
                "gpu": "1x test",
                "usd_per_hour": 2.0,
                "max_output_tok_s": 1000,
                "source": "test",
            },
            "latency": {"ttft_ms": 40, "output_tok_s": 80, "source": "test"},
            "quality": {"score": 0.7, "benchmark": "test", "source": "test"},
        }
    )


def test_self_hosted_cost_is_servers_for_the_peak() -> None:
    m = _self_hosted()
    # 10 rps * 250 tokens = 2,500 tok/s over 1,000 per server -> 3 servers * $2/h * 730 h = $4,380.
    load = Load(requests=1_000_000, input_tokens=500, output_tokens=250, peak_rps=10)
    assert servers_needed(m, 10, 250) == 3
    assert monthly_cost(m, load, mini_catalog()) == pytest.approx(4380.0)
    # Volume does not matter, the peak does; no traffic, no servers.
    assert monthly_cost(m, Load(10, 500, 250, 4), mini_catalog()) == pytest.approx(1 * 2.0 * 730)
    assert monthly_cost(m, Load(0, 500, 250, 0), mini_catalog()) == 0.0


def test_token_cost_with_batch_discount() -> None:
    big = mini_catalog().model("big")
    # 1,000 requests * (2,000 * 10 + 1,000 * 30) / 1e6 = $50; batched at 50% off = $25.
    assert monthly_cost(big, Load(1000, 2000, 1000, 1), mini_catalog()) == pytest.approx(50.0)
    assert monthly_cost(big, Load(1000, 2000, 1000, 1, batch=True), mini_catalog()) == pytest.approx(25.0)


def test_in_house_data_gets_the_self_hosted_model_with_its_servers() -> None:
    cat = mini_catalog()
    cat = cat.model_copy(update={"models": (*cat.models, _self_hosted())})
    raw = _req(quality={"min_accuracy": 0.6}, data={"in_house": True})
    raw["traffic"].update({"peak_rps": 10, "avg_output_tokens": 250})
    d = design(parse_requirements(raw), cat, mini_measurements())
    assert d.chosen is not None and d.chosen.plan.label == "gpu"
    assert {x.rule for x in d.result.excluded} == {"M-IN-HOUSE"}
    # peak 10 rps x (1 - 12% cache hits) x 250 tokens = 2,200 tok/s / 1,000 -> 3 servers = $4,380
    assert d.chosen.servers == {"gpu": 3}
    assert d.chosen.components["gpu"] == pytest.approx(4380.0)
