"""Plan search: estimate every candidate, pick the cheapest that meets every constraint; when
none does, name the binding constraint(s) and show the Pareto set, each fully costed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from portico.design.candidates import Plan, eligible_models, enumerate_plans
from portico.design.catalog import CatalogModel
from portico.design.decision import Decision, r
from portico.design.estimate import CONSTRAINTS, Context, Estimate, estimate, model_p95_ms
from portico.design.pricing import Load, monthly_cost

_BUDGET_SEARCH_STEPS = 30


@dataclass(frozen=True, slots=True)
class SearchResult:
    estimates: tuple[Estimate, ...]
    chosen: Estimate | None
    runner_up: Estimate | None
    binding: tuple[tuple[str, ...], ...]  # constraint sets whose relaxation makes a plan feasible
    # cheapest_meeting_quality | fastest | best_within_budget (| highest_quality when none meets it)
    pareto: dict[str, Estimate]
    fallback: CatalogModel | None
    excluded: tuple[Decision, ...]
    decisions: tuple[Decision, ...]

    @property
    def feasible(self) -> bool:
        return self.chosen is not None and self.chosen.feasible


def _key(e: Estimate) -> tuple[float, float, str]:
    return (e.total, -e.quality, e.plan.label)


def _distinct(a: Estimate, b: Estimate) -> bool:
    """A real alternative: other models or another way of combining them (not a share variant)."""
    return (a.plan.kind, {m.name for m in a.plan.models}) != (b.plan.kind, {m.name for m in b.plan.models})


def _budget_variants(plans: list[Plan], ctx: Context) -> list[Plan]:
    """For each fast/strong pair over budget at its quality share, the largest share within budget."""
    budget = ctx.req.budget.usd_per_month
    if budget is None:
        return []
    out: list[Plan] = []
    for p in plans:
        if p.kind != "route" or estimate(p, ctx).total <= budget:
            continue
        lo, hi = 0.0, p.strong_share
        if estimate(replace(p, strong_share=lo), ctx).total > budget:
            continue
        for _ in range(_BUDGET_SEARCH_STEPS):
            mid = (lo + hi) / 2
            if estimate(replace(p, strong_share=mid), ctx).total <= budget:
                lo = mid
            else:
                hi = mid
        if lo > 0.005:
            basis = f"budget: {lo:.1%} at {p.primary.name} is the most the ${budget:,.0f} budget affords"
            out.append(replace(p, strong_share=lo, share_basis=basis))
    return out


def _binding(ests: list[Estimate]) -> tuple[tuple[str, ...], ...]:
    """Smallest sets of constraints whose relaxation leaves some plan meeting all the others."""
    broken = {c for e in ests for c in e.broken}
    for size in range(1, len(CONSTRAINTS) + 1):
        found = [
            combo
            for combo in itertools.combinations([c for c in CONSTRAINTS if c in broken], size)
            if any(set(e.broken) <= set(combo) for e in ests)
        ]
        if found:
            return tuple(found)
    return ()


def _pareto(ests: list[Estimate]) -> dict[str, Estimate]:
    out: dict[str, Estimate] = {}
    interactive_ok = [e for e in ests if e.meets("latency_p95", "ttft")]
    quality_ok = [e for e in ests if e.meets("quality")]
    both = [e for e in quality_ok if e.meets("latency_p95", "ttft")]
    if both or quality_ok:
        out["cheapest_meeting_quality"] = min(both or quality_ok, key=_key)
    timed = [e for e in ests if e.p95_ms is not None]
    if timed:
        out["fastest"] = min(timed, key=lambda e: (e.p95_ms or 0.0, e.total, e.plan.label))
    if not quality_ok:
        out["highest_quality"] = max(ests, key=lambda e: (e.quality, -e.total, e.plan.label))
    affordable = [e for e in ests if e.meets("budget")]
    pool = [e for e in affordable if e in interactive_ok] or affordable
    if pool:
        out["best_within_budget"] = max(pool, key=lambda e: (e.quality, -e.total, e.plan.label))
    return out


def per_request_usd(m: CatalogModel, ctx: Context) -> float:
    """Price of one request on ``m`` (self-hosted: its servers for this traffic, spread per request)."""
    req = ctx.req
    t = req.traffic
    n = max(req.requests_per_month, 1.0)
    load = Load(n, t.avg_input_tokens, t.avg_output_tokens, t.effective_peak_rps)
    return monthly_cost(m, load, ctx.catalog) / n


def choose_fallback(plan: Plan, eligible: list[CatalogModel], ctx: Context) -> tuple[CatalogModel | None, Decision]:
    """A model on another endpoint whose price and latency keep a failover sane: at most
    ``fallback_max_cost_ratio`` x the primary's price per request, within the p95 if any is;
    the best quality among those. Else the embedded model (degraded, costs nothing)."""
    req, cat = ctx.req, ctx.catalog
    used = {m.endpoint for m in plan.models}
    base = max(per_request_usd(m, ctx) for m in plan.models)
    cap = cat.a("fallback_max_cost_ratio")
    others = [m for m in eligible if m.hosting == "api" and m.endpoint not in used]
    cheap = [m for m in others if per_request_usd(m, ctx) <= cap * max(base, 1e-12)]
    target = req.latency_target_ms
    quick = [m for m in cheap if target is None or model_p95_ms(m, req, cat) <= target]
    pool = quick or cheap
    if pool:
        fb = max(pool, key=lambda m: (m.quality_for(req.task), -per_request_usd(m, ctx), m.name))
        ratio = per_request_usd(fb, ctx) / base if base > 0 else 0.0
        return fb, Decision(
            "T-FALLBACK",
            "model",
            fb.name,
            f"On another endpoint than {', '.join(sorted(m.name for m in plan.models))} ({fb.endpoint}), so one "
            f"provider outage does not stop the service; {ratio:.2f}x the primary's price per request (cap "
            f"{cap:g}x: {cat.assumptions['fallback_max_cost_ratio'].source})"
            + ("" if fb in quick else "; slower than the p95 target: a degraded mode")
            + f"; best quality among {len(pool)} such models.",
            {"price_ratio": r(ratio), "quality": fb.quality_for(req.task), "candidates": len(pool)},
        )
    dear = sorted(others, key=lambda m: per_request_usd(m, ctx))
    local = next((m for m in eligible if m.hosting == "embedded"), None)
    why = (
        f"every other endpoint costs more than {cap:g}x the primary per request (cheapest: {dear[0].name}, "
        f"{per_request_usd(dear[0], ctx) / max(base, 1e-12):.1f}x)"
        if dear
        else "no eligible hosted model on another endpoint"
    )
    if local is not None:
        ceiling = local.serving.max_output_tok_s / max(req.traffic.avg_output_tokens, 1.0) if local.serving else 0.0
        peak = req.traffic.effective_peak_rps * req.agent.steps_per_request
        carry = (
            "it carries the peak"
            if ceiling >= peak
            else f"it sustains ~{ceiling:.1f} requests/s against a {peak:.1f} rps peak: a degraded mode for a "
            "share of traffic (the rest gets 503s, not a hang)"
        )
        return local, Decision(
            "T-FALLBACK-LOCAL",
            "model",
            local.name,
            "The embedded model keeps the service answering (degraded quality, no extra cost) when upstreams "
            f"fail: {why}; {carry}.",
            {"quality": local.quality.score, "max_rps": r(ceiling), "peak_rps": r(peak)},
        )
    return None, Decision("T-FALLBACK-NONE", "model", "no fallback", f"No fallback: {why}.", {})


def search(ctx: Context) -> SearchResult:
    eligible, excluded = eligible_models(ctx.req, ctx.catalog)
    plans = enumerate_plans(ctx.req, eligible, ctx.meas)
    plans += _budget_variants(plans, ctx)
    ests = [estimate(p, ctx) for p in plans]
    decisions: list[Decision] = []
    if not ests:
        return SearchResult((), None, None, (), {}, None, tuple(excluded), ())
    critical = ctx.req.quality.accuracy_critical
    # Accuracy-critical work (a wrong answer is costly) buys the most quality the other
    # constraints allow; everything else buys the required quality at the lowest cost.
    feasible = sorted((e for e in ests if e.feasible), key=(lambda e: (-e.quality, *_key(e))) if critical else _key)
    pareto = _pareto(ests)
    binding: tuple[tuple[str, ...], ...] = ()
    if feasible:
        chosen = feasible[0]
        runner = next((e for e in feasible[1:] if _distinct(e, chosen)), None)
        if runner is None:
            runner = min((e for e in ests if not e.feasible), key=lambda e: e.rank(), default=None)
        decisions.append(
            Decision(
                "SEARCH-CHEAPEST",
                "model",
                chosen.plan.label,
                ("Highest quality (accuracy-critical: seed, Model Selection -> ensemble)" if critical else "Cheapest")
                + f" of {len(feasible)} plans (of {len(ests)} candidates) that meet every constraint: "
                f"quality {chosen.quality:.3f} >= {ctx.req.quality.min_accuracy:g}, "
                + _latency_phrase(chosen, ctx)
                + f", ${chosen.total:,.0f}/month"
                + (f" <= ${ctx.req.budget.usd_per_month:,.0f}" if ctx.req.budget.usd_per_month is not None else "")
                + ".",
                {"candidates": len(ests), "feasible": len(feasible), "monthly_usd": r(chosen.total)},
            )
        )
    else:
        chosen = min(ests, key=lambda e: e.rank())
        runner = next((e for e in sorted(ests, key=lambda e: e.rank()) if _distinct(e, chosen)), None)
        binding = _binding(ests)
        names = " or ".join(" + ".join(c) for c in binding) or "all of them together"
        decisions.append(
            Decision(
                "SEARCH-INFEASIBLE",
                "model",
                chosen.plan.label,
                f"None of {len(ests)} candidate plans meets every constraint; binding: {names}. Chosen: the plan "
                f"breaking the fewest constraints by the least ({', '.join(chosen.broken)}); the Pareto set shows "
                "the alternatives, each fully costed.",
                {"candidates": len(ests), "binding": names},
            )
        )
    fallback, why = choose_fallback(chosen.plan, eligible, ctx)
    decisions.append(why)
    return SearchResult(tuple(ests), chosen, runner, binding, pareto, fallback, tuple(excluded), tuple(decisions))


def _latency_phrase(e: Estimate, ctx: Context) -> str:
    if e.p95_ms is None:
        return "batch (no interactive p95)"
    target = ctx.req.latency_target_ms
    out = f"p95 {e.p95_ms:,.0f} ms" + (f" <= {target:g}" if target is not None else "")
    if ctx.req.ttft_ms is not None and e.ttft_ms is not None:
        out += f", TTFT {e.ttft_ms:,.0f} ms <= {ctx.req.ttft_ms:g}"
    return out
