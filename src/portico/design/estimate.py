"""Score a candidate plan: quality against `min_accuracy`, p95 and time to first token,
monthly cost step by step (with fixed costs that match the deployment), and which
constraints it breaks by how much."""

from __future__ import annotations

from dataclasses import dataclass, replace

from portico.design.candidates import Plan, ensemble_quality, pair_quality
from portico.design.catalog import Catalog, CatalogModel
from portico.design.decision import r
from portico.design.measurements import Measurements
from portico.design.pricing import Load, monthly_cost, servers_needed
from portico.design.requirements import Requirements

# Below this share the strong model's tail does not reach the plan's p95.
TAIL_SHARE = 0.05
CONSTRAINTS = ("quality", "latency_p95", "ttft", "budget")


@dataclass(frozen=True, slots=True)
class Context:
    """Everything the estimate needs besides the plan (the same for every candidate)."""

    req: Requirements
    catalog: Catalog
    meas: Measurements
    cache_hit: float
    input_factor: float  # compression: share of input tokens left
    overhead_ms: float  # gateway-side latency added to every request at p95
    infra: dict[str, float]  # fixed monthly costs of the deployment


@dataclass(frozen=True, slots=True)
class CostStep:
    name: str
    rule: str
    source: str
    components: dict[str, float]
    total: float
    change_usd: float  # negative = saving
    change_pct_of_baseline: float

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.name,
            "rule": self.rule,
            "source": self.source,
            "components": {k: r(v) for k, v in self.components.items()},
            "total_usd_month": r(self.total),
            "change_usd_month": r(self.change_usd),
            "change_pct_of_baseline": r(self.change_pct_of_baseline, 1),
        }


@dataclass(frozen=True, slots=True)
class Estimate:
    plan: Plan
    quality: float
    p95_ms: float | None  # None: batch, answered within the provider's batch window
    ttft_ms: float | None
    components: dict[str, float]
    servers: dict[str, int]
    shortfall: dict[str, float]  # constraint -> relative shortfall (> 0 means broken)

    @property
    def total(self) -> float:
        return sum(self.components.values())

    @property
    def broken(self) -> tuple[str, ...]:
        return tuple(c for c in CONSTRAINTS if self.shortfall.get(c, 0.0) > 1e-9)

    @property
    def feasible(self) -> bool:
        return not self.broken

    def meets(self, *constraints: str) -> bool:
        return all(self.shortfall.get(c, 0.0) <= 1e-9 for c in constraints)

    def rank(self) -> tuple[float, ...]:
        """Infeasible plans: fewest broken constraints, then the smallest total shortfall, then cost."""
        return (len(self.broken), sum(self.shortfall.values()), self.total, -self.quality)

    def to_dict(self) -> dict[str, object]:
        return {
            "plan": self.plan.label,
            "kind": self.plan.kind,
            "models": [m.name for m in self.plan.models],
            "strong_share": r(self.plan.strong_share, 4) if self.plan.kind in ("route", "cascade") else None,
            "batch": self.plan.batch,
            "quality": r(self.quality, 4),
            "p95_ms": None if self.p95_ms is None else r(self.p95_ms, 0),
            "ttft_p95_ms": None if self.ttft_ms is None else r(self.ttft_ms, 0),
            "monthly_usd": r(self.total),
            "per_component": {k: r(v) for k, v in self.components.items()},
            "servers": dict(self.servers),
            "broken": list(self.broken),
        }


def model_p95_ms(m: CatalogModel, req: Requirements, catalog: Catalog) -> float:
    factor = catalog.a("p95_over_typical" if m.hosting == "api" else "p95_over_typical_self_hosted")
    return m.typical_latency_ms(req.traffic.avg_output_tokens) * factor


def model_ttft_ms(m: CatalogModel, catalog: Catalog) -> float:
    factor = catalog.a("p95_over_typical" if m.hosting == "api" else "p95_over_typical_self_hosted")
    return m.latency.ttft_ms * factor


def _shares(plan: Plan) -> list[tuple[CatalogModel, float]]:
    if plan.kind == "single":
        return [(plan.primary, 1.0)]
    if plan.kind == "ensemble":
        return [(m, 1.0) for m in plan.members]
    assert plan.fast is not None
    fast_share = 1.0 if plan.kind == "cascade" else 1.0 - plan.strong_share
    return [(plan.fast, fast_share), (plan.primary, plan.strong_share)]


def costs(
    plan: Plan, ctx: Context, *, cache_hit: float, input_factor: float
) -> tuple[dict[str, float], dict[str, int]]:
    req, t = ctx.req, ctx.req.traffic
    calls = req.requests_per_month * req.agent.steps_per_request * (1.0 - cache_hit)
    peak = t.effective_peak_rps * req.agent.steps_per_request * (1.0 - cache_hit)
    if plan.batch:
        # A batch queue drains at the average rate: servers are sized for it, not the peak.
        peak = req.traffic.requests_per_day / 86_400 * req.agent.steps_per_request * (1.0 - cache_hit)
    out: dict[str, float] = {}
    servers: dict[str, int] = {}
    for m, share in _shares(plan):
        if share <= 0:
            continue
        load = Load(calls * share, t.avg_input_tokens * input_factor, t.avg_output_tokens, peak * share, plan.batch)
        label = f"{m.name}" + (" (batch)" if plan.batch and m.price is not None else "")
        out[label] = out.get(label, 0.0) + monthly_cost(m, load, ctx.catalog)
        if m.serving is not None and m.hosting == "self_hosted":
            servers[m.name] = servers_needed(m, load.peak_rps, load.output_tokens)
    if plan.kind == "cascade" and plan.fast is not None:
        # self_check: the fast model reads question + answer and says yes or no
        check = Load(
            calls,
            (t.avg_input_tokens * input_factor + t.avg_output_tokens),
            ctx.catalog.a("cascade_check_output_tokens"),
            peak,
        )
        if plan.fast.price is not None:
            out[f"{plan.fast.name} (cascade self-check)"] = monthly_cost(plan.fast, check, ctx.catalog)
    out.update(ctx.infra)
    return out, servers


def quality(plan: Plan, ctx: Context) -> float:
    task = ctx.req.task
    if plan.kind == "single":
        return plan.primary.quality_for(task)
    if plan.kind == "ensemble":
        return ensemble_quality(
            [m.quality_for(task) for m in plan.members], ctx.catalog.a("ensemble_error_correlation")
        )
    assert plan.fast is not None
    return pair_quality(plan.fast.quality_for(task), plan.primary.quality_for(task), plan.strong_share, ctx.meas)


def latency(plan: Plan, ctx: Context) -> tuple[float | None, float | None]:
    """(p95 of the whole request, p95 time to first token), gateway overhead included."""
    if plan.batch:
        return None, None
    req, cat = ctx.req, ctx.catalog
    steps = req.agent.steps_per_request
    if plan.kind == "single":
        p95, ttft = model_p95_ms(plan.primary, req, cat), model_ttft_ms(plan.primary, cat)
    elif plan.kind == "ensemble":
        # members run in parallel; the vote needs every full answer before the first token
        p95 = max(model_p95_ms(m, req, cat) for m in plan.members)
        ttft = p95
    else:
        assert plan.fast is not None
        pf, ps = model_p95_ms(plan.fast, req, cat), model_p95_ms(plan.primary, req, cat)
        tf, ts = model_ttft_ms(plan.fast, cat), model_ttft_ms(plan.primary, cat)
        tail = plan.strong_share >= TAIL_SHARE
        router = ctx.meas.v("router_p95_ms")
        if plan.kind == "route":
            p95 = (max(pf, ps) if tail else pf) + router
            ttft = (max(tf, ts) if tail else tf) + router
        else:
            check = tf + 1000.0 * cat.a("cascade_check_output_tokens") / plan.fast.latency.output_tok_s
            # the fast answer is held until it passes its check; an escalated one starts over
            p95 = pf + check + (ps if tail else 0.0)
            ttft = pf + check + (ts if tail else 0.0)
    p95_total = steps * p95 + ctx.overhead_ms
    ttft_total = (steps - 1) * p95 + ttft + ctx.overhead_ms
    return p95_total, ttft_total


def estimate(plan: Plan, ctx: Context) -> Estimate:
    req = ctx.req
    comps, servers = costs(plan, ctx, cache_hit=ctx.cache_hit, input_factor=ctx.input_factor)
    q = quality(plan, ctx)
    p95, ttft = latency(plan, ctx)
    short: dict[str, float] = {}
    need = req.quality.min_accuracy
    if q < need - 1e-9:
        # relative to the error rate: 0.81 against 0.95 is ~4x the errors allowed, not a 15% miss
        short["quality"] = (1.0 - q) / max(1.0 - need, 1e-3) - 1.0
    target = req.latency_target_ms
    if p95 is not None and target is not None and p95 > target:
        short["latency_p95"] = p95 / target - 1.0
    if ttft is not None and req.ttft_ms is not None and ttft > req.ttft_ms:
        short["ttft"] = ttft / req.ttft_ms - 1.0
    budget = req.budget.usd_per_month
    total = sum(comps.values())
    if budget is not None and total > budget + 1e-9:
        short["budget"] = total / budget - 1.0 if budget > 0 else float("inf")
    return Estimate(plan, q, p95, ttft, comps, servers, short)


def cost_steps(plan: Plan, ctx: Context, sources: dict[str, str]) -> list[CostStep]:
    """The chosen plan built up lever by lever from the primary model alone, each step costed."""
    baseline_plan = Plan("single", plan.primary)
    stages: list[tuple[str, str, Plan, float, float]] = [
        (f"baseline: all traffic on {plan.primary.name}", "COST-BASELINE", baseline_plan, 0.0, 1.0)
    ]
    hit, factor = ctx.cache_hit, ctx.input_factor
    if hit > 0:
        stages.append(("+ response cache", "OPT-CACHE", baseline_plan, hit, 1.0))
    mixed = replace(plan, batch=False)
    if plan.kind != "single":
        rule = {"route": "OPT-ROUTE", "cascade": "OPT-CASCADE", "ensemble": "OPT-ENSEMBLE"}[plan.kind]
        stages.append((f"+ {mixed.label}", rule, mixed, hit, 1.0))
    if plan.batch:
        stages.append(("+ batch API", "OPT-BATCH", plan, hit, 1.0))
    if factor < 1.0:
        stages.append(("+ prompt compression", "OPT-COMPRESS", plan, hit, factor))
    out: list[CostStep] = []
    for name, rule, p, h, f in stages:
        comps, _ = costs(p, ctx, cache_hit=h, input_factor=f)
        total = sum(comps.values())
        base = out[0].total if out else total
        prev = out[-1].total if out else total
        pct = 100.0 * (total - prev) / base if base > 0 else 0.0
        out.append(CostStep(name, rule, sources.get(rule, ""), comps, total, total - prev, pct))
    return out
