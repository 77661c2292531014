"""What each admin page shows, computed from the Store, the deployments and the metrics registry.

Pure data (dicts and lists) for the templates: no HTML here, no HTTP either.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from portico.limits.limiter import period_window
from portico.providers import ReadinessProbe
from portico.resilience.admin import describe
from portico.resilience.deployments import Deployment
from portico.storage.records import KeyRecord, SpendRow, TeamRecord
from portico.storage.store import Scope, SpendGroup, Store

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float


def bar_chart(rows: Iterable[tuple[str, float]], *, width: float = 640, height: float = 160) -> list[Bar]:
    """Bars of an inline SVG chart, scaled to the largest value."""
    items = list(rows)
    if not items:
        return []
    top = max(v for _, v in items) or 1.0
    slot = min(width / len(items), 80.0)  # one bar is not a wall
    out = []
    for i, (label, value) in enumerate(items):
        h = max(1.0, (value / top) * (height - 20)) if value > 0 else 0.0
        out.append(Bar(label, value, i * slot + slot * 0.1, height - h, slot * 0.8, h))
    return out


async def budget_burn(store: Store, keys: list[KeyRecord], teams: list[TeamRecord]) -> list[dict[str, Any]]:
    """Spend in the current budget period against the budget, for every key and team that has one."""
    out = []
    scopes: list[tuple[Scope, KeyRecord | TeamRecord]] = [("key", k) for k in keys if k.active()]
    scopes += [("team", t) for t in teams]
    for kind, rec in scopes:
        if rec.budget_usd is None:
            continue
        spent = await store.spent(kind, rec.id, period_window(rec.budget_period).start)
        share = spent / rec.budget_usd if rec.budget_usd else 1.0
        out.append(
            {
                "kind": kind,
                "id": rec.id,
                "name": rec.name,
                "period": rec.budget_period,
                "budget_usd": rec.budget_usd,
                "spent_usd": spent,
                "percent": min(100.0, share * 100),
                "level": "over" if share >= 1 else "high" if share >= 0.8 else "ok",
            }
        )
    return sorted(out, key=lambda r: -float(r["percent"]))


async def spend_page(store: Store, days: int, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    since = now - now % DAY - (days - 1) * DAY  # whole UTC days: read from the rollup alone
    groups: tuple[SpendGroup, ...] = ("key", "team", "model", "day")
    by: dict[str, list[SpendRow]] = {g: await store.spend(g, since=since) for g in groups}
    keys, teams = await store.list_keys(), await store.list_teams()
    names = {k.id: k.name for k in keys} | {t.id: t.name for t in teams}
    total = sum(r.cost_usd for r in by["day"])
    return {
        "days": days,
        "by": by,
        "names": names,
        "total_usd": total,
        "requests": sum(r.requests for r in by["day"]),
        "day_bars": bar_chart(_every_day(by["day"], since, now)),
        "model_bars": bar_chart((r.group, r.cost_usd) for r in by["model"][:12]),
        "burn": await budget_burn(store, keys, teams),
    }


def explain(row: dict[str, Any]) -> dict[str, Any]:
    """One audit row as the request's explanation: why this route, what the cache and guards did."""
    findings = row.get("findings") or []
    guards = []
    for f in findings:
        detail = f.get("detail") or {}
        entities = detail.get("entities") or detail.get("entity_types") or detail.get("types") or []
        if isinstance(entities, dict):
            entities = list(entities)
        guards.append({"guard": f.get("guard"), "action": f.get("action"), "entities": entities, "detail": detail})
    cache = str(row.get("cache_status") or "off")
    tier, _, rest = cache.partition(";")
    return {
        **row,
        "cache_tier": tier.strip(),
        "cache_similarity": rest.strip().removeprefix("similarity=") if rest else "",
        "guards": guards,
        "when": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(row["ts"]))),
    }


def _every_day(rows: list[SpendRow], since: float, now: float) -> list[tuple[str, float]]:
    """Cost per day with the days without spend as zero bars, so the chart is a timeline."""
    cost = {r.group: r.cost_usd for r in rows}
    days = []
    t = since
    while t <= now:
        day = time.strftime("%Y-%m-%d", time.gmtime(t))
        days.append((day, cost.get(day, 0.0)))
        t += DAY
    return days


def _samples(registry: CollectorRegistry, name: str) -> list[tuple[dict[str, str], float]]:
    out = []
    for metric in registry.collect():
        for s in metric.samples:
            if s.name == name:
                out.append((dict(s.labels), float(s.value)))
    return out


def health_page(deployments: Iterable[Deployment], registry: CollectorRegistry, clock: float) -> dict[str, Any]:
    rows = []
    for d in deployments:
        info = describe(d, clock)
        queue = getattr(d.provider, "queue_depth", None)
        info["queue"] = queue() if callable(queue) else None
        info["ready"] = d.provider.ready if isinstance(d.provider, ReadinessProbe) else True
        info["provider"] = d.settings.provider
        rows.append(info)
    lookups = _samples(registry, "portico_cache_lookups_total")
    hits = sum(v for labels, v in lookups if labels.get("result") == "hit")
    # every lookup tries exact first: the exact-tier count is the number of requests consulted
    consulted = sum(v for labels, v in lookups if labels.get("tier") == "exact")
    saved = sum(v for _, v in _samples(registry, "portico_cache_saved_usd_total"))
    verdicts = sorted(
        (
            (labels.get("guard", "?"), labels.get("action", "?"), int(v))
            for labels, v in _samples(registry, "portico_guard_verdicts_total")
        ),
        key=lambda r: (-r[2], r[0], r[1]),
    )
    requests = sum(v for _, v in _samples(registry, "portico_requests_total"))
    return {
        "deployments": rows,
        "cache": {"consulted": int(consulted), "hits": int(hits), "rate": hits / consulted if consulted else 0.0},
        "saved_usd": saved,
        "verdicts": verdicts,
        "requests": int(requests),
    }
