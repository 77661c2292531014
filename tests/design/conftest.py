"""Fixtures for the architect: the example requirements from the issue and small catalogs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from portico.design.catalog import Catalog, load_catalog

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
    "gateway_cpu_ms_per_request": 0.5,
    "semantic_cache_cpu_ms_per_request": 4.0,
    "pii_guard_cpu_ms_per_request": 8.0,
    "injection_guard_cpu_ms_per_request": 1.0,
    "rag_retrieval_cpu_ms_per_request": 6.0,
    "replica_target_utilisation": 0.6,
    "cores_per_replica": 1,
    "min_replicas_for_availability": 2,
    "availability_min_peak_rps": 1.0,
    "growth_horizon_months": 6,
    "days_per_month": 30,
    "hours_per_month": 730,
    "semantic_cache_capture": 0.5,
    "cache_capture_fast_changing_knowledge": 0.5,
    "default_simple_query_share": 0.5,
    "default_cascade_escalation": 0.3,
    "compression_input_reduction": 0.2,
    "compression_min_input_tokens": 500,
    "fast_tier_quality_floor": 0.75,
    "quality_tie": 0.02,
    "gateway_replica_usd_month": 10.0,
    "redis_usd_month": 50.0,
    "postgres_usd_month": 60.0,
}


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


@pytest.fixture
def example() -> dict[str, Any]:
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(EXAMPLE))  # a deep copy each test may edit
    return copy
