"""The whole design: shared levers, the plan search, capacity, controls, and the critical
levels the chosen plan's own estimate crosses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from portico.compress.settings import CompressionSettings
from portico.design.approach import Approach, choose_approach
from portico.design.candidates import SELF_HOST_LATENCY_MS
from portico.design.capacity import Features, GatewayCapacity, plan_gateway, plan_servers
from portico.design.catalog import Catalog, CatalogModel
from portico.design.controls import Control, plan_controls
from portico.design.decision import Decision, r
from portico.design.estimate import Context, CostStep, Estimate, cost_steps
from portico.design.levers import CachePlan, available_sections, guard_added_p95_ms, guards_parallel, plan_cache
from portico.design.measurements import Measurements, load_measurements
from portico.design.requirements import Requirements, defaults_applied
from portico.design.search import SearchResult, search

# The seed's performance targets table: target and critical levels.
P95_TARGET_X, P95_CRITICAL_X = 2.0, 3.0
ERROR_TARGET, ERROR_CRITICAL = 0.01, 0.05
CACHE_TARGET, CACHE_CRITICAL = 0.60, 0.40
COST_CRITICAL_X = 1.5
ACCURACY_CRITICAL_BAND = 0.10  # seed: target 90%, critical 80%


def money(x: float) -> str:
    """Dollars, with cents where whole dollars would hide the figure."""
    return f"${x:,.2f}" if abs(x) < 100 else f"${x:,.0f}"


@dataclass(frozen=True, slots=True)
class Design:
    requirements: Requirements
    catalog: Catalog
    measurements: Measurements
    approach: Approach
    cache: CachePlan
    compression: float  # share of input tokens removed (0: off)
    guards_parallel: bool
    gateway: GatewayCapacity
    result: SearchResult
    steps: tuple[CostStep, ...]
    servers: tuple[Decision, ...]
    controls: tuple[Control, ...]
    control_decisions: tuple[Decision, ...]
    retention_days: int
    lever_decisions: tuple[Decision, ...]
    critical: tuple[str, ...]  # critical alert levels the plan's own estimate crosses

    @property
    def chosen(self) -> Estimate | None:
        return self.result.chosen

    @property
    def fallback(self) -> CatalogModel | None:
        return self.result.fallback

    @property
    def rag(self) -> bool:
        return "rag" in self.approach.components

    @property
    def total(self) -> float:
        return self.chosen.total if self.chosen is not None else 0.0

    def serving_models(self) -> list[CatalogModel]:
        """Every model the config must declare: the plan's, then the fallback."""
        out: list[CatalogModel] = []
        if self.chosen is not None:
            out.extend(self.chosen.plan.models)
        if self.fallback is not None and all(m.name != self.fallback.name for m in out):
            out.append(self.fallback)
        return out

    def decisions(self) -> list[Decision]:
        return [
            *self.approach.decisions,
            *self.result.excluded,
            *self.result.decisions,
            *self.lever_decisions,
            *self.gateway.decisions,
            *self.servers,
            *self.control_decisions,
        ]

    def summary(self) -> str:
        c = self.chosen
        if c is None:
            return "No catalog model meets the hard constraints (compliance, residency, context): see the exclusions."
        head = f"{c.plan.label}: {money(c.total)}/month, quality {c.quality:.3f}"
        head += "" if c.p95_ms is None else f", p95 {c.p95_ms:,.0f} ms"
        head += " - meets every requirement" if c.feasible else f" - BREAKS {', '.join(c.broken)}"
        if self.critical:
            head += "; its own estimate crosses critical alert levels: " + "; ".join(self.critical)
        return head + "."

    def to_json(self) -> dict[str, Any]:
        req = self.requirements
        res = self.result
        budget = req.budget.usd_per_month
        return {
            "use_case": req.use_case,
            "summary": self.summary(),
            "requirements": req.model_dump(mode="json"),
            "defaults_applied": stated_defaults(req, self.catalog),
            "catalog_version": self.catalog.version,
            "approach": {
                "primary": self.approach.primary,
                "components": list(self.approach.components),
                "reasons": [d.to_dict() for d in self.approach.decisions],
            },
            "plan": None if self.chosen is None else self.chosen.to_dict(),
            "feasible": res.feasible,
            "binding_constraints": [list(b) for b in res.binding],
            "runner_up": None if res.runner_up is None else res.runner_up.to_dict(),
            "pareto": {k: v.to_dict() for k, v in res.pareto.items()},
            "candidates": len(res.estimates),
            "fallback": None if self.fallback is None else self.fallback.name,
            "excluded_models": [d.to_dict() for d in res.excluded],
            "cache": {
                "tier": self.cache.tier,
                "partition": self.cache.partition,
                "ttl_seconds": self.cache.ttl_seconds,
                "expected_hit_rate": r(self.cache.hit_rate, 4),
            },
            "cost": {
                "currency": "USD",
                "period": "month",
                "monthly_total": r(self.total),
                "baseline_total": r(self.steps[0].total) if self.steps else 0.0,
                "per_component": {} if self.chosen is None else {k: r(v) for k, v in self.chosen.components.items()},
                "steps": [s.to_dict() for s in self.steps],
                "budget": budget,
                "within_budget": None if budget is None else self.total <= budget,
            },
            "capacity": {
                "gateway_replicas": self.gateway.replicas,
                "cpu_ms_per_request": r(self.gateway.cpu_ms_per_request),
                "peak_rps_now": r(self.gateway.peak_rps_now),
                "peak_rps_horizon": r(self.gateway.peak_rps_horizon),
                "redis": self.gateway.redis,
                "postgres": self.gateway.postgres,
                "servers": {} if self.chosen is None else dict(self.chosen.servers),
            },
            "controls": [c.to_dict() for c in self.controls],
            "audit_retention_days": self.retention_days,
            "critical_levels_crossed": list(self.critical),
            "decisions": [d.to_dict() for d in self.decisions()],
        }


def stated_defaults(req: Requirements, catalog: Catalog) -> dict[str, Any]:
    """Each field the user left out, with the value (or assumption) the design used."""
    assumed: dict[str, Any] = {
        "traffic.peak_rps": r(req.traffic.effective_peak_rps, 4),
        "latency_p95_ms": req.latency_target_ms,
    }
    out: dict[str, Any] = {}
    for name in defaults_applied(req):
        value: Any = req
        for part in name.split("."):
            value = getattr(value, part)
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        out[name] = assumed.get(name, value)
    return out


def _compression(req: Requirements, catalog: Catalog, meas: Measurements) -> tuple[float, Decision]:
    tokens = req.traffic.avg_input_tokens
    threshold = catalog.a("compression_min_input_tokens")
    if tokens < threshold:
        return 0.0, Decision(
            "OPT-COMPRESS-SKIP", "cost", "no prompt compression",
            f"Prompts average {tokens:g} input tokens (< {threshold:g}): too short to be worth compressing "
            "(seed, Cost Optimization: prompt compression is for long context inputs).",
            {"traffic.avg_input_tokens": tokens},
        )  # fmt: skip
    if "compression" not in available_sections():
        return 0.0, Decision(
            "OPT-COMPRESS-UNAVAILABLE", "cost", "no prompt compression (not yet available in this Portico)",
            f"Prompts average {tokens:g} input tokens, long enough for compression (seed: 10-20% savings), but "
            "this Portico's config has no compression section: no saving is counted.",
            {"traffic.avg_input_tokens": tokens},
        )  # fmt: skip
    if req.quality.accuracy_critical or req.task == "code":
        return 0.0, Decision(
            "OPT-COMPRESS-RISK", "cost", "no prompt compression",
            "Compression drops whole sentences; for accuracy-critical work or code a dropped line is a wrong "
            "answer, so the saving is not worth the risk.",
            {"quality.accuracy_critical": req.quality.accuracy_critical, "task": req.task},
        )  # fmt: skip
    stage = CompressionSettings()
    if tokens < stage.min_tokens:
        return 0.0, Decision(
            "OPT-COMPRESS-SKIP", "cost", "no prompt compression",
            f"Prompts average {tokens:g} tokens, below the compression stage's {stage.min_tokens} (it leaves "
            "shorter inputs alone).",
            {"traffic.avg_input_tokens": tokens},
        )  # fmt: skip
    cut = 1.0 - stage.ratio
    key = "compression_input_reduction" if "compression_input_reduction" in meas.figures else ""
    if key:
        cut = meas.v(key)
    kept = meas.v("compression_answer_kept_at_2x")
    return cut, Decision(
        "OPT-COMPRESS", "cost", "prompt compression",
        f"Prompts average {tokens:g} input tokens (>= {stage.min_tokens}): the query-aware compression stage "
        f"keeps {1 - cut:.0%} of them"
        + (f" ({meas.source(key)})" if key else f" (its configured ratio {stage.ratio:g})")
        + f"; measured answer retention at 2x: {kept:.3f} ({meas.source('compression_answer_kept_at_2x')}). "
        "Confirm end-to-end quality with `portico eval` before the rollout's canary.",
        {"traffic.avg_input_tokens": tokens, "input_reduction": cut, "answer_kept_at_2x": kept},
    )  # fmt: skip


def _critical(req: Requirements, chosen: Estimate | None, cache: CachePlan) -> tuple[str, ...]:
    if chosen is None:
        return ()
    out: list[str] = []
    target = req.latency_target_ms
    if chosen.p95_ms is not None and target is not None and chosen.p95_ms > P95_CRITICAL_X * target:
        out.append(f"p95 {chosen.p95_ms:,.0f} ms > {P95_CRITICAL_X:g}x the {target:g} ms requirement")
    budget = req.budget.usd_per_month
    if budget is not None and chosen.total > COST_CRITICAL_X * budget:
        out.append(f"cost ${chosen.total:,.0f} > {COST_CRITICAL_X:.0%} of the ${budget:,.0f} budget")
    if cache.enabled and cache.hit_rate < CACHE_CRITICAL:
        out.append(f"expected cache hit rate {cache.hit_rate:.0%} < {CACHE_CRITICAL:.0%}")
    floor = req.quality.min_accuracy - ACCURACY_CRITICAL_BAND
    if chosen.quality < floor:
        out.append(
            f"quality proxy {chosen.quality:.3f} < {floor:.2f} (critical: {ACCURACY_CRITICAL_BAND:.0%} below target)"
        )
    return tuple(out)


def design(req: Requirements, catalog: Catalog, meas: Measurements | None = None) -> Design:
    """Deterministic: the same requirements, catalog and measurements always give the same design."""
    if meas is None:
        meas = load_measurements()
    lat = req.latency_target_ms
    small = (lat is not None and lat < SELF_HOST_LATENCY_MS) or (
        req.ttft_ms is not None and req.ttft_ms < SELF_HOST_LATENCY_MS
    )
    approach = choose_approach(req, latency_needs_small_model=small)
    cache = plan_cache(req, catalog, meas)
    cut, compress_why = _compression(req, catalog, meas)
    parallel = guards_parallel(req)
    rag = "rag" in approach.components
    features = Features(semantic_cache=cache.tier == "semantic", guards=True, rag=rag)
    gateway = plan_gateway(req, features, catalog, meas)
    overhead = (
        (meas.v("gateway_cpu_ms_per_request_redis") if gateway.redis else meas.v("gateway_cpu_ms_per_request"))
        + guard_added_p95_ms(req, meas, parallel=parallel)
        + ((meas.v("embed_p95_ms") + meas.v("semantic_lookup_p95_ms")) if features.semantic_cache else 0.0)
        + (catalog.a("rag_retrieval_cpu_ms_per_request") if rag else 0.0)
    )
    ctx = Context(req, catalog, meas, cache.hit_rate, 1.0 - cut, overhead, gateway.infra_costs(catalog))
    result = search(ctx)
    steps: tuple[CostStep, ...] = ()
    servers: tuple[Decision, ...] = ()
    if result.chosen is not None:
        steps = tuple(cost_steps(result.chosen.plan, ctx, _step_sources(result.chosen, cache, meas, compress_why)))
        servers = plan_servers(req, result.chosen, gateway, catalog)
    controls, control_decisions, days = plan_controls(req, rag=rag)
    guard_why = Decision(
        "GUARDS-LATENCY",
        "latency",
        "guards in parallel with the upstream call" if parallel else "guards before the upstream call",
        f"Input guards add ~{guard_added_p95_ms(req, meas, parallel=parallel):.0f} ms at p95 for "
        f"{req.traffic.avg_input_tokens:g}-token prompts ({meas.source('guard_p95_ms')}); "
        + (
            "parallel: true hides the block/flag guards behind the call "
            f"({meas.source('guard_parallel_added_p95_ms')})."
            if parallel
            else "they run first because nothing an attack sends may reach the provider (high sensitivity or a "
            "compliance regime)."
        ),
        {
            "added_p95_ms": r(guard_added_p95_ms(req, meas, parallel=parallel), 1),
            "gateway_overhead_p95_ms": r(overhead, 1),
        },
    )
    levers: list[Decision] = [*cache.decisions, compress_why, guard_why]
    if req.agent.tool_use or req.agent.steps_per_request > 1:
        levers.append(_agent_decision(req))
    return Design(
        req,
        catalog,
        meas,
        approach,
        cache,
        cut,
        parallel,
        gateway,
        result,
        steps,
        servers,
        controls,
        control_decisions,
        days,
        tuple(levers),
        _critical(req, result.chosen, cache),
    )


def _step_sources(chosen: Estimate, cache: CachePlan, meas: Measurements, compress: Decision) -> dict[str, str]:
    plan = chosen.plan
    batch_src = ", ".join(
        sorted({f"{m.name} {m.price.batch_discount:.0%} off ({m.price.source})" for m in plan.models if m.price})
    )
    return {
        "COST-BASELINE": "catalog list prices / GPU prices",
        "OPT-CACHE": _cache_source(cache, meas),
        "OPT-ROUTE": f"measured: {meas.source('router_strong_share_curve')}; {plan.share_basis}",
        "OPT-CASCADE": f"measured: {meas.source('router_strong_share_curve')}; {plan.share_basis}",
        "OPT-ENSEMBLE": "every member answers every request (cost), assumption for the quality gain",
        "OPT-BATCH": f"provider batch prices: {batch_src or 'self-hosted queue sized for the average rate'}"
        + (
            "; Portico's Batch API (portico.yaml batch:) runs lines as ordinary upstream calls at low priority and "
            "records them at this price: the discount reaches the invoice through the provider's batch endpoint "
            "or contract"
            if batch_src
            else ""
        ),
        "OPT-COMPRESS": compress.reason,
    }


def _cache_source(cache: CachePlan, meas: Measurements) -> str:
    if "cache_hit_rate" in meas.figures:
        return "measured: " + meas.source("cache_hit_rate")
    if cache.tier == "semantic":
        return "measured: " + meas.source("semantic_cache_recall") + "; exact share: see OPT-CACHE"
    return "exact repeats only (see OPT-CACHE)"


def _agent_decision(req: Requirements) -> Decision:
    steps = req.agent.steps_per_request
    lat = req.latency_target_ms
    per_step = f"{lat / steps:,.0f} ms per step" if lat is not None else "no interactive budget (batch)"
    q = req.quality.min_accuracy
    return Decision(
        "AGENT-STEPS",
        "latency",
        f"{steps:g} model calls per request",
        f"Each request is {steps:g} tool-calling steps: cost and p95 are counted per step x {steps:g}, leaving "
        f"{per_step}. Quality is scored per call; a task succeeds only if every step does (at {q:g} per call, "
        f"~{q**steps:.2f} for {steps:g} independent steps): measure task success end to end in the eval plan"
        + ("; actions need a person's approval (handoff)." if req.agent.takes_actions else "."),
        {"agent.steps_per_request": steps, "task_success_if_independent": r(q**steps, 3)},
    )
