"""The shipped deployment examples stay true to the code: the k8s config validates and the
alert rules and dashboard only use metric names the gateway exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from portico.config import settings_from_dict
from portico.gateway import Gateway
from portico.testing import make_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\b(portico_[a-z_]+?)(?:_bucket|_count|_sum)?\b")


def _exported_families() -> set[str]:
    gateway = Gateway(make_settings())
    names = set()
    for family in gateway.metrics.registry.collect():
        names.add(family.name)
        names.add(family.name + "_total")
    return names


def _used(text: str) -> set[str]:
    return {m.group(1) for m in METRIC.finditer(text)}


# Exported by features that register their metrics only when enabled (cache, guards).
FEATURE_METRICS = {"portico_cache_lookups_total", "portico_guard_verdicts_total"}


def test_k8s_config_validates() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "portico.yaml").read_text()))
    config = yaml.safe_load(docs[0]["data"]["portico.yaml"])
    env = {
        "PORTICO_MASTER_KEY": "m",
        "PORTICO_DATABASE_URL": "postgresql+asyncpg://db/portico",
        "PORTICO_REDIS_URL": "redis://redis:6379/0",
        "OPENAI_API_KEY": "k",
    }
    settings = settings_from_dict(config, env=env)
    assert settings.limits.backend == "redis" and settings.storage.url.startswith("postgresql")


def test_alerts_and_dashboard_use_exported_metrics() -> None:
    exported = _exported_families() | FEATURE_METRICS
    alerts = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    rules = yaml.safe_load(alerts)["groups"][0]["rules"]
    assert len(rules) >= 5
    dashboard = json.loads((DEPLOY / "grafana" / "portico.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for used in _used(alerts) | _used(exprs):
        assert used in exported, used
