"""Capacity plan: gateway replicas from the per-request CPU cost at peak, whether Redis and
PostgreSQL are needed, and the throughput limits of self-hosted and embedded models."""

from __future__ import annotations

import math
from dataclasses import dataclass

from portico.design.catalog import Catalog
from portico.design.cost import Mix
from portico.design.decision import Decision, r
from portico.design.models import ModelPlan
from portico.design.pricing import servers_needed
from portico.design.requirements import Requirements


@dataclass(frozen=True, slots=True)
class Features:
    """Gateway features that cost CPU per request."""

    cache: bool
    pii_guard: bool
    rag: bool


@dataclass(frozen=True, slots=True)
class GatewayCapacity:
    cpu_ms_per_request: float
    peak_rps_now: float
    peak_rps_horizon: float
    replicas: int
    redis: bool
    postgres: bool
    decisions: tuple[Decision, ...]

    def infra_costs(self, catalog: Catalog) -> dict[str, float]:
        label = f"gateway ({self.replicas} replica{'s' if self.replicas > 1 else ''})"
        out = {label: self.replicas * catalog.a("gateway_replica_usd_month")}
        if self.redis:
            out["redis"] = catalog.a("redis_usd_month")
        if self.postgres:
            out["postgres"] = catalog.a("postgres_usd_month")
        return out


def cpu_ms_per_request(features: Features, catalog: Catalog) -> dict[str, float]:
    parts = {
        "gateway pipeline": catalog.a("gateway_cpu_ms_per_request"),
        "injection guard": catalog.a("injection_guard_cpu_ms_per_request"),
    }
    if features.cache:
        parts["semantic cache embedding"] = catalog.a("semantic_cache_cpu_ms_per_request")
    if features.pii_guard:
        parts["PII guard"] = catalog.a("pii_guard_cpu_ms_per_request")
    if features.rag:
        parts["RAG retrieval"] = catalog.a("rag_retrieval_cpu_ms_per_request")
    return parts


def plan_gateway(req: Requirements, features: Features, catalog: Catalog) -> GatewayCapacity:
    parts = cpu_ms_per_request(features, catalog)
    cpu_ms = sum(parts.values())
    months = catalog.a("growth_horizon_months")
    growth = (1.0 + req.traffic.growth_per_month) ** months
    peak_now = req.traffic.effective_peak_rps
    peak_h = peak_now * growth
    util = catalog.a("replica_target_utilisation")
    cores = catalog.a("cores_per_replica")
    needed = peak_h * cpu_ms / 1000.0 / util / cores
    # Production traffic gets a second replica to survive a failure; a trickle does not.
    floor = int(catalog.a("min_replicas_for_availability")) if peak_now >= catalog.a("availability_min_peak_rps") else 1
    replicas = max(floor, math.ceil(needed - 1e-9))
    decisions = [
        Decision(
            "CAP-REPLICAS",
            "capacity",
            f"{replicas} gateway replicas",
            f"{cpu_ms:.1f} ms CPU per request ({', '.join(f'{k} {v:g}' for k, v in parts.items())}) x "
            f"peak {peak_h:.1f} rps ({peak_now:g} now, x{growth:.2f} growth over {months:g} months) / "
            f"{util:.0%} target utilisation = {needed:.2f} cores; at least {floor} for availability "
            f"(peak {'>=' if floor > 1 else '<'} {catalog.a('availability_min_peak_rps'):g} rps).",
            {
                "cpu_ms_per_request": r(cpu_ms, 2),
                "peak_rps_now": r(peak_now),
                "peak_rps_horizon": r(peak_h),
                "cores_needed": r(needed),
                "replicas": replicas,
            },
        )
    ]
    shared = replicas > 1
    decisions.append(
        Decision(
            "CAP-REDIS" if shared else "CAP-NO-REDIS",
            "capacity",
            "redis" if shared else "in-process state",
            "Several replicas must share rate limits, budget reservations and the cache: Redis."
            if shared
            else "One replica: limits and cache stay in process.",
            {"replicas": replicas},
        )
    )
    decisions.append(
        Decision(
            "CAP-POSTGRES" if shared else "CAP-SQLITE",
            "capacity",
            "postgresql" if shared else "sqlite",
            "Several replicas write one spend ledger and audit log: PostgreSQL."
            if shared
            else "One replica: the embedded SQLite file holds keys, ledger and audit.",
            {"replicas": replicas},
        )
    )
    return GatewayCapacity(cpu_ms, peak_now, peak_h, replicas, shared, shared, tuple(decisions))


def plan_models(req: Requirements, plan: ModelPlan, mix: Mix, gateway: GatewayCapacity) -> tuple[Decision, ...]:
    """Servers for self-hosted tiers at the horizon peak; the embedded model's ceiling."""
    out: list[Decision] = []
    served = 1.0 - mix.cache_hit
    tokens = req.traffic.avg_output_tokens
    for t in plan.tiers:
        m = t.model
        if m.serving is None:
            continue
        share = {"fast": mix.fast_share, "powerful": mix.powerful_share}.get(t.tier, 0.0)
        ceiling = m.serving.max_output_tok_s / tokens if tokens > 0 else float("inf")
        if m.hosting == "embedded" or share <= 0:
            out.append(
                Decision(
                    "CAP-LOCAL-LIMIT",
                    "capacity",
                    f"{m.name}: <= {ceiling:.1f} rps",
                    f"{m.name} ({m.serving.runtime}) sustains ~{m.serving.max_output_tok_s:g} output tok/s: "
                    f"~{ceiling:.1f} requests/s of {tokens:g} tokens. A degraded mode, not a replacement "
                    f"for {gateway.peak_rps_now:g} rps.",
                    {"max_output_tok_s": m.serving.max_output_tok_s, "max_rps": r(ceiling)},
                )
            )
            continue
        peak = gateway.peak_rps_horizon * served * share
        servers = servers_needed(m, peak, tokens)
        out.append(
            Decision(
                "CAP-SELFHOST",
                "capacity",
                f"{m.name}: {servers} x {m.serving.gpu}",
                f"{t.tier} tier peak {peak:.1f} rps x {tokens:g} output tokens = {peak * tokens:,.0f} tok/s; "
                f"one {m.serving.runtime} server gives ~{m.serving.max_output_tok_s:g} tok/s "
                f"({m.serving.source}).",
                {"peak_rps": r(peak), "output_tok_s": r(peak * tokens, 0), "servers": servers},
            )
        )
    return tuple(out)
