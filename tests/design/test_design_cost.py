"""The cost model and capacity plan against examples computed by hand in the comments."""

from __future__ import annotations

from typing import Any

import pytest

from portico.design.catalog import Catalog, CatalogModel
from portico.design.plan import design
from portico.design.pricing import Load, monthly_cost, servers_needed
from portico.design.requirements import parse_requirements

from .conftest import mini_catalog


def _req(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "latency_p95_ms": 100000,
        "traffic": {
            "requests_per_day": 1000,
            "avg_input_tokens": 1000,
            "avg_output_tokens": 500,
            "repeat_query_share": 0.2,
        },
        "batch_ok": True,
    }
    raw.update(over)
    return raw


def test_every_step_matches_the_hand_computed_example() -> None:
    # 1000 req/day x 30 = 30,000 req/month; big costs (1000*10 + 500*30)/1e6 = $0.025 per request,
    # small (1000*1 + 500*2)/1e6 = $0.002. Peak 3x average = 0.035 rps < 1: one replica ($10).
    d = design(parse_requirements(_req()), mini_catalog())
    steps = [(s.rule, round(s.total, 2)) for s in d.cost.steps]
    assert steps == [
        ("COST-BASELINE", 760.0),  # 30,000 * 0.025 = 750 + 10
        ("OPT-CACHE", 685.0),  # hit = 0.2 repeat * 0.5 capture = 0.1 -> 27,000 calls * 0.025 = 675 + 10
        # cascade: small on all 27,000 (54) + big on 30% = 8,100 (202.5) = 256.5 + 10;
        # routing would be 13,500 * 0.002 + 13,500 * 0.025 = 364.5 + 10 = 374.5, so cascade wins
        ("OPT-CASCADE", 266.5),
        ("OPT-BATCH", 138.25),  # model spend halved: 128.25 + 10
        # input 1000 -> 800: small 27,000 * 0.0018 * 0.5 = 24.3; big 8,100 * 0.023 * 0.5 = 93.15; + 10
        ("OPT-COMPRESS", 127.45),
    ]
    final = d.cost.final.components
    assert final == pytest.approx({"fast: small": 24.3, "powerful: big": 93.15, "gateway (1 replica)": 10.0})
    assert d.cost.steps[1].saving_usd == pytest.approx(75.0)
    assert d.cost.steps[2].saving_pct_of_baseline == pytest.approx(100 * 418.5 / 760)


def test_routing_is_chosen_when_the_cascade_path_is_too_slow() -> None:
    # Each model's p95 = (200 ms + 500 tokens / 100 tok/s) * 1.5 = 7,800 ms; a cascade's escalated
    # path is 15,600 ms > 10,000 ms, so route: 13,500 * 0.002 + 13,500 * 0.025 + 10 = 374.5.
    d = design(parse_requirements(_req(latency_p95_ms=10000, batch_ok=False)), mini_catalog())
    routing = next(s for s in d.cost.steps if s.rule.startswith("OPT-ROUTE"))
    assert routing.total == pytest.approx(374.5)
    decision = next(x for x in d.cost.decisions if x.rule == "OPT-ROUTE")
    assert decision.numbers["cascade_escalated_p95_ms"] == 15600.0


def test_issue_example_baseline_and_capacity(catalog: Catalog, example: dict[str, Any]) -> None:
    d = design(parse_requirements(example), catalog)
    # 6,000,000 req/month on mistral-large: (900 * 2 + 250 * 6) / 1e6 = $0.0033 -> $19,800.
    assert d.cost.baseline.components["powerful: mistral-large"] == pytest.approx(19800.0)
    # Cache: 35% repeat * 0.6 capture (knowledge changes frequently) = 21% hit -> 19,800 * 0.79.
    assert d.cost.steps[1].components["powerful: mistral-large"] == pytest.approx(15642.0)
    # CPU/request 0.5 + 1 (injection) + 4 (cache) + 8 (PII) + 6 (RAG) = 19.5 ms; peak 40 * 1.1^6 = 70.86 rps;
    # 70.86 * 0.0195 / 0.6 = 2.30 cores -> 3 replicas, hence Redis and PostgreSQL.
    assert d.gateway.cpu_ms_per_request == pytest.approx(19.5)
    assert d.gateway.peak_rps_horizon == pytest.approx(40 * 1.1**6)
    assert (d.gateway.replicas, d.gateway.redis, d.gateway.postgres) == (3, True, True)


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


def test_routing_is_skipped_when_it_would_not_save() -> None:
    # big on all 30,000 requests: $750. A self-hosted fast tier bills its one server ($0.6/h x 730 = $438)
    # at any share: routing half = 438 + 375 = $813 > $750; the cascade (438 + 225) is too slow here.
    cat = mini_catalog()
    gpu = _self_hosted().model_copy(
        update={
            "quality": cat.model("small").quality,
            "serving": _self_hosted().serving.model_copy(update={"usd_per_hour": 0.6}),  # type: ignore[union-attr]
            "latency": cat.model("small").latency,
        }
    )
    cat = cat.model_copy(update={"models": (cat.model("big"), gpu)})
    raw = _req(latency_p95_ms=10000, batch_ok=False, data={"sensitivity": "high"})
    raw["traffic"]["repeat_query_share"] = 0.0
    d = design(parse_requirements(raw), cat)
    assert [t.model.name for t in d.models.tiers] == ["gpu", "big"]
    skip = next(x for x in d.cost.decisions if x.rule == "OPT-ROUTE-SKIP")
    assert skip.numbers["routing_usd_month"] == pytest.approx(813.0 + 10)
    assert "OPT-ROUTE" not in [s.rule for s in d.cost.steps]
