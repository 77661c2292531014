"""Capacity plan: gateway replicas from the measured per-request CPU cost at peak, whether
Redis and PostgreSQL are needed (and paid for), and the servers of self-hosted models."""

from __future__ import annotations

import math
from dataclasses import dataclass

from portico.design.catalog import Catalog
from portico.design.decision import Decision, r
from portico.design.estimate import Estimate
from portico.design.measurements import Measurements
from portico.design.requirements import Requirements


@dataclass(frozen=True, slots=True)
class Features:
    """Gateway features that cost CPU per request."""

    semantic_cache: bool
    guards: bool
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

    @property
    def embedded(self) -> bool:
        return self.replicas == 1

    def infra_costs(self, catalog: Catalog) -> dict[str, float]:
        if self.embedded:
            # One process next to the application: SQLite and in-process state, nothing to rent.
            return {"gateway (embedded single process)": 0.0}
        out = {f"gateway ({self.replicas} replicas)": self.replicas * catalog.a("gateway_replica_usd_month")}
        if self.redis:
            out["redis"] = catalog.a("redis_usd_month")
        if self.postgres:
            out["postgres"] = catalog.a("postgres_usd_month")
        return out


def cpu_ms_per_request(
    req: Requirements, features: Features, meas: Measurements, *, shared: bool, rag_ms: float
) -> dict[str, float]:
    key = "gateway_cpu_ms_per_request_redis" if shared else "gateway_cpu_ms_per_request"
    parts = {"gateway pipeline (measured)": meas.v(key)}
    if features.guards:
        parts["input guards (measured)"] = meas.get("guard_p95_ms").at(req.traffic.avg_input_tokens)
    if features.semantic_cache:
        parts["cache embedding (measured)"] = meas.v("embed_p95_ms") + meas.v("semantic_lookup_p95_ms")
    if features.rag:
        parts["RAG retrieval (estimate)"] = rag_ms
    return parts


def plan_gateway(req: Requirements, features: Features, catalog: Catalog, meas: Measurements) -> GatewayCapacity:
    queued = req.batch_ok and req.latency_target_ms is None
    rate = req.traffic.requests_per_day / 86_400 if queued else req.traffic.effective_peak_rps
    peak_now = rate * req.agent.steps_per_request
    # Batch work waits in a queue: it drains at the average rate and a restart only delays it,
    # so it needs neither peak capacity nor a standby replica.
    shared = not queued and peak_now >= catalog.a("availability_min_peak_rps")
    parts = cpu_ms_per_request(req, features, meas, shared=shared, rag_ms=catalog.a("rag_retrieval_cpu_ms_per_request"))
    cpu_ms = sum(parts.values())
    months = catalog.a("growth_horizon_months")
    growth = (1.0 + req.traffic.growth_per_month) ** months
    peak_h = peak_now * growth
    util = catalog.a("replica_target_utilisation")
    needed = peak_h * cpu_ms / 1000.0 / util / catalog.a("cores_per_replica")
    # Production traffic gets a second replica to survive a failure; a trickle does not.
    floor = int(catalog.a("min_replicas_for_availability")) if shared else 1
    replicas = max(floor, math.ceil(needed - 1e-9))
    decisions = [
        Decision(
            "CAP-REPLICAS",
            "capacity",
            f"{replicas} gateway replica{'s' if replicas > 1 else ''}",
            f"{cpu_ms:.1f} ms CPU per request ({', '.join(f'{k} {v:.2f}' for k, v in parts.items())}) x "
            f"peak {peak_h:.2f} rps ({peak_now:.2f} now, x{growth:.2f} growth over {months:g} months) / "
            f"{util:.0%} target utilisation = {needed:.2f} cores; at least {floor} "
            + (
                f"for availability (peak >= {catalog.a('availability_min_peak_rps'):g} rps)."
                if floor > 1
                else "(batch work queues at the average rate: one embedded process is enough)."
                if queued
                else f"(peak < {catalog.a('availability_min_peak_rps'):g} rps: one embedded process is enough)."
            ),
            {
                "cpu_ms_per_request": r(cpu_ms, 2),
                "peak_rps_now": r(peak_now),
                "peak_rps_horizon": r(peak_h),
                "cores_needed": r(needed),
                "replicas": replicas,
            },
        )
    ]
    multi = replicas > 1
    decisions.append(
        Decision(
            "CAP-REDIS" if multi else "CAP-NO-REDIS",
            "capacity",
            "redis" if multi else "in-process state",
            "Several replicas must share rate limits, budget reservations, breaker state and the cache: Redis."
            if multi
            else "One process: limits, breakers and cache stay in memory, at no extra cost.",
            {"replicas": replicas},
        )
    )
    decisions.append(
        Decision(
            "CAP-POSTGRES" if multi else "CAP-SQLITE",
            "capacity",
            "postgresql" if multi else "sqlite",
            "Several replicas write one spend ledger and audit log: PostgreSQL."
            if multi
            else "One process: the embedded SQLite file holds keys, ledger and audit.",
            {"replicas": replicas},
        )
    )
    return GatewayCapacity(cpu_ms, peak_now, peak_h, replicas, multi, multi, tuple(decisions))


def plan_servers(
    req: Requirements, chosen: Estimate, gateway: GatewayCapacity, catalog: Catalog
) -> tuple[Decision, ...]:
    """GPU servers of the chosen plan's self-hosted models, now and at the growth horizon."""
    out: list[Decision] = []
    growth = gateway.peak_rps_horizon / gateway.peak_rps_now if gateway.peak_rps_now > 0 else 1.0
    tokens = req.traffic.avg_output_tokens
    for m in chosen.plan.models:
        if m.serving is None or m.hosting != "self_hosted":
            continue
        now = chosen.servers.get(m.name, 0)
        horizon = max(now, math.ceil(now * growth - 1e-9))
        out.append(
            Decision(
                "CAP-SELFHOST",
                "capacity",
                f"{m.name}: {now} x {m.serving.gpu}",
                f"{m.serving.runtime} on {m.serving.gpu} gives ~{m.serving.max_output_tok_s:g} output tok/s "
                f"({m.serving.source}); this plan's share of the peak at {tokens:g} output tokens needs {now} "
                f"server{'s' if now != 1 else ''} now, ~{horizon} after {catalog.a('growth_horizon_months'):g} "
                "months of growth.",
                {"servers": now, "servers_at_horizon": horizon, "usd_per_hour": m.serving.usd_per_hour},
            )
        )
    return tuple(out)
