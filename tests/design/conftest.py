"""Fixtures for the architect: the example requirements from the issue and small catalogs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from portico.design.catalog import Catalog, load_catalog
from portico.design.measurements import Measurement, Measurements, load_measurements

EXAMPLE: dict[str, Any] = {
    "use_case": "customer support answers from our help center",
    "latency_p95_ms": 1500,
    "traffic": {
        "requests_per_day": 200000,
        "peak_rps": 40,
        "growth_per_month": 0.1,
        "avg_input_tokens": 900,
        "avg_output_tokens": 250,
        "repeat_query_share": 0.35,
    },
    "quality": {"min_accuracy": 0.9, "metric": "exact match on eval set", "eval_dataset": "data/eval.jsonl"},
    "budget": {"usd_per_month": 3000},
    "knowledge": {"domain_specific": True, "changes": "frequently", "size_docs": 20000},
    "output": {"format": "json", "describable_in_prompt": True},
    "data": {"sensitivity": "high", "pii": True, "residency": "eu"},
    "compliance": ["gdpr", "soc2"],
    "batch_ok": False,
}

ASSUMPTIONS: dict[str, float] = {
    "p95_over_typical": 1.5,
    "p95_over_typical_self_hosted": 1.2,
    "rag_retrieval_cpu_ms_per_request": 6.0,
    "replica_target_utilisation": 0.6,
    "cores_per_replica": 1,
    "min_replicas_for_availability": 2,
    "availability_min_peak_rps": 1.0,
    "growth_horizon_months": 6,
    "days_per_month": 30,
    "hours_per_month": 730,
    "exact_share_of_repeats": 0.5,
    "cache_ttl_capture_fast_changing_knowledge": 0.5,
    "compression_min_input_tokens": 500,
    "ensemble_error_correlation": 0.5,
    "cascade_check_output_tokens": 4,
    "fallback_max_cost_ratio": 2.0,
    "gateway_replica_usd_month": 10.0,
    "redis_usd_month": 50.0,
    "postgres_usd_month": 60.0,
}
# Round figures for hand-computed examples: guards add a flat 10 ms (5 ms in parallel), the
# semantic tier serves 20% of paraphrases, and the router's strong share equals the share of
# the quality gap it recovers (a straight line).
MEASUREMENTS: dict[str, dict[str, Any]] = {
    "gateway_cpu_ms_per_request": {"value": 1.0, "source": "test"},
    "gateway_cpu_ms_per_request_redis": {"value": 1.0, "source": "test"},
    "guard_p95_ms": {"points": [[0, 10.0], [100000, 10.0]], "source": "test"},
    "guard_parallel_added_p95_ms": {"value": 5.0, "source": "test"},
    "guard_sequential_added_p95_ms": {"value": 10.0, "source": "test"},
    "semantic_cache_recall": {"value": 0.2, "source": "test"},
    "semantic_cache_false_hit_share": {"value": 0.05, "source": "test"},
    "embed_p95_ms": {"value": 2.0, "source": "test"},
    "semantic_lookup_p95_ms": {"value": 0.0, "source": "test"},
    "router_p95_ms": {"value": 0.0, "source": "test"},
    "compression_answer_kept_at_2x": {"value": 1.0, "source": "test"},
    "router_strong_share_curve": {"points": [[0, 0], [1, 1]], "source": "test"},
}


def mini_measurements(**overrides: dict[str, Any]) -> Measurements:
    raw = {**MEASUREMENTS, **overrides}
    return Measurements(figures={k: Measurement.model_validate(v) for k, v in raw.items()})


def _api(
    name: str, score: float, pin: float, pout: float, url: str, ttft: float = 200, tps: float = 100
) -> dict[str, Any]:
    return {
        "name": name,
        "provider": "openai",
        "hosting": "api",
        "base_url": url,
        "api_key_env": "TEST_KEY",
        "regions": ["us"],
        "context_window": 100000,
        "price": {"input_per_mtok": pin, "output_per_mtok": pout, "batch_discount": 0.5, "source": "test"},
        "latency": {"ttft_ms": ttft, "output_tok_s": tps, "source": "test"},
        "quality": {"score": score, "benchmark": "test", "source": "test"},
    }


def mini_catalog(**overrides: float) -> Catalog:
    """Two hosted models with round prices, for hand-computed cost examples."""
    raw = {
        "version": "test",
        "assumptions": {k: {"value": v, "source": "test"} for k, v in {**ASSUMPTIONS, **overrides}.items()},
        "models": [
            _api("big", 0.90, 10.0, 30.0, "https://big.example/v1"),
            _api("small", 0.80, 1.0, 2.0, "https://small.example/v1"),
        ],
    }
    return Catalog.model_validate(yaml.safe_load(yaml.safe_dump(raw)))


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def measurements() -> Measurements:
    return load_measurements()


@pytest.fixture
def example() -> dict[str, Any]:
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(EXAMPLE))  # a deep copy each test may edit
    return copy
