"""The cost model: monthly cost per component, before and after each optimisation.

Each optimisation is a rule with a trigger in the traffic profile; its saving is computed
from that profile (not quoted from a range), and the table shows every step in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from portico.design.catalog import Catalog
from portico.design.decision import Decision, Number, r
from portico.design.models import ModelPlan
from portico.design.pricing import Load, monthly_cost
from portico.design.requirements import FAST_CHANGING, Requirements

MIN_REPEAT_SHARE_FOR_CACHE = 0.05
Add = Callable[[str, str, "Mix"], float]


@dataclass(frozen=True, slots=True)
class Mix:
    """How model traffic is shaped after the optimisations applied so far."""

    cache_hit: float = 0.0
    fast_share: float = 0.0
    powerful_share: float = 1.0
    input_factor: float = 1.0
    batch: bool = False


@dataclass(frozen=True, slots=True)
class CostStep:
    name: str
    rule: str
    components: dict[str, float]
    total: float
    saving_usd: float
    saving_pct_of_baseline: float

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.name,
            "rule": self.rule,
            "components": {k: r(v) for k, v in self.components.items()},
            "total_usd_month": r(self.total),
            "saving_usd_month": r(self.saving_usd),
            "saving_pct_of_baseline": r(self.saving_pct_of_baseline, 1),
        }


@dataclass(frozen=True, slots=True)
class CostModel:
    steps: tuple[CostStep, ...]
    decisions: tuple[Decision, ...]
    mix: Mix

    @property
    def baseline(self) -> CostStep:
        return self.steps[0]

    @property
    def final(self) -> CostStep:
        return self.steps[-1]


def components(
    req: Requirements, plan: ModelPlan, mix: Mix, catalog: Catalog, infra: dict[str, float]
) -> dict[str, float]:
    t = req.traffic
    served = 1.0 - mix.cache_hit
    out: dict[str, float] = {}
    for tier, share in (("fast", mix.fast_share), ("powerful", mix.powerful_share)):
        chosen = plan.get(tier)
        if chosen is None or share <= 0:
            continue
        load = Load(
            requests=req.requests_per_month * served * share,
            input_tokens=t.avg_input_tokens * mix.input_factor,
            output_tokens=t.avg_output_tokens,
            peak_rps=t.effective_peak_rps * served * share,
            batch=mix.batch,
        )
        out[f"{tier}: {chosen.model.name}"] = monthly_cost(chosen.model, load, catalog)
    out.update(infra)
    return out


def build_cost_model(req: Requirements, plan: ModelPlan, catalog: Catalog, infra: dict[str, float]) -> CostModel:
    steps: list[CostStep] = []
    decisions: list[Decision] = []

    def add(name: str, rule: str, mix: Mix) -> float:
        """Append a step if it is the baseline or saves money; return the saving."""
        comp = components(req, plan, mix, catalog, infra)
        total = sum(comp.values())
        base = steps[0].total if steps else total
        prev = steps[-1].total if steps else total
        if steps and total >= prev - 1e-9:
            return 0.0
        pct = 100.0 * (prev - total) / base if base > 0 else 0.0
        steps.append(CostStep(name, rule, comp, total, prev - total, pct))
        return prev - total

    mix = Mix()
    add("baseline: all traffic on the powerful tier", "COST-BASELINE", mix)
    mix = _cache(req, catalog, mix, decisions, add)
    mix = _routing(req, plan, catalog, infra, mix, decisions, add)
    mix = _batch(req, plan, mix, decisions, add)
    mix = _compression(req, catalog, mix, decisions, add)
    return CostModel(tuple(steps), tuple(decisions), mix)


def _cache(req: Requirements, catalog: Catalog, mix: Mix, decisions: list[Decision], add: Add) -> Mix:
    share = req.traffic.repeat_query_share
    if share < MIN_REPEAT_SHARE_FOR_CACHE:
        decisions.append(
            Decision(
                "OPT-CACHE-SKIP",
                "cost",
                "no response cache",
                f"Only {share:.0%} of queries repeat (< {MIN_REPEAT_SHARE_FOR_CACHE:.0%}): "
                "a cache would cost "
                "more CPU than it saves.",
                {"traffic.repeat_query_share": share},
            )
        )
        return mix
    fast_changing = req.knowledge.changes in FAST_CHANGING
    capture = catalog.a("cache_capture_fast_changing_knowledge" if fast_changing else "semantic_cache_capture")
    hit = share * capture
    new = replace(mix, cache_hit=hit)
    saved = add("+ exact/semantic cache", "OPT-CACHE", new)
    decisions.append(
        Decision(
            "OPT-CACHE",
            "cost",
            "exact + semantic response cache",
            f"{share:.0%} of queries repeat; at a capture of {capture:.0%}"
            + (" (short TTL: knowledge changes often)" if fast_changing else "")
            + f" the expected hit rate is {hit:.1%}, removing that share of model calls"
            + ("." if saved > 0 else " (it cuts latency and load; the bill stays: servers are sized for the peak)."),
            {"traffic.repeat_query_share": share, "capture": capture, "expected_hit_rate": r(hit, 4)},
        )
    )
    return new


def _routing(
    req: Requirements,
    plan: ModelPlan,
    catalog: Catalog,
    infra: dict[str, float],
    mix: Mix,
    decisions: list[Decision],
    add: Add,
) -> Mix:
    fast, powerful = plan.get("fast"), plan.get("powerful")
    if fast is None or powerful is None:
        decisions.append(
            Decision(
                "OPT-ROUTE-SKIP",
                "cost",
                "single tier",
                "No cheaper model passes the fast-tier quality floor: nothing to route to.",
            )
        )
        return mix
    simple = req.traffic.simple_query_share
    simple = catalog.a("default_simple_query_share") if simple is None else simple
    esc = req.traffic.cascade_escalation
    esc = catalog.a("default_cascade_escalation") if esc is None else esc
    routed = replace(mix, fast_share=simple, powerful_share=1.0 - simple)
    cascaded = replace(mix, fast_share=1.0, powerful_share=esc)
    cost_routed = sum(components(req, plan, routed, catalog, infra).values())
    cost_cascade = sum(components(req, plan, cascaded, catalog, infra).values())
    escalated_p95 = fast.p95_ms + powerful.p95_ms
    cascade_fits = escalated_p95 <= req.latency_p95_ms
    current = sum(components(req, plan, mix, catalog, infra).values())
    best = min(cost_routed, cost_cascade) if cascade_fits else cost_routed
    if best >= current:
        # e.g. a self-hosted fast tier whose servers cost the same at any share
        decisions.append(
            Decision(
                "OPT-ROUTE-SKIP",
                "cost",
                "single tier",
                f"Splitting traffic would not save money: routing ${cost_routed:,.0f}"
                + (f", cascade ${cost_cascade:,.0f}" if cascade_fits else "")
                + f" vs everything on {powerful.model.name} ${current:,.0f}.",
                {
                    "routing_usd_month": r(cost_routed),
                    "cascade_usd_month": r(cost_cascade),
                    "current_usd_month": r(current),
                },
            )
        )
        return mix
    nums: dict[str, Number] = {
        "simple_query_share": simple,
        "cascade_escalation": esc,
        "routing_usd_month": r(cost_routed),
        "cascade_usd_month": r(cost_cascade),
        "cascade_escalated_p95_ms": r(escalated_p95, 0),
        "latency_p95_ms": req.latency_p95_ms,
    }
    if cascade_fits and cost_cascade < cost_routed:
        add(f"+ cascade {fast.model.name} -> {powerful.model.name}", "OPT-CASCADE", cascaded)
        decisions.append(
            Decision(
                "OPT-CASCADE",
                "cost",
                "cascade",
                f"Every query tries {fast.model.name} first; {esc:.0%} escalate to {powerful.model.name}. "
                f"Cheaper than routing (${cost_cascade:,.0f} vs ${cost_routed:,.0f}) and the escalated "
                f"path (~{escalated_p95:.0f} ms) fits the latency target.",
                nums,
            )
        )
        return cascaded
    why = (
        f"the escalated path (~{escalated_p95:.0f} ms) would exceed p95 {req.latency_p95_ms:g} ms"
        if not cascade_fits
        else f"it is cheaper than a cascade (${cost_routed:,.0f} vs ${cost_cascade:,.0f})"
    )
    add(f"+ route simple queries to {fast.model.name}", "OPT-ROUTE", routed)
    decisions.append(
        Decision(
            "OPT-ROUTE",
            "cost",
            "route by complexity",
            f"{simple:.0%} of queries go to {fast.model.name}, the rest to {powerful.model.name}; routing "
            f"rather than a cascade because {why}.",
            nums,
        )
    )
    return routed


def _batch(req: Requirements, plan: ModelPlan, mix: Mix, decisions: list[Decision], add: Add) -> Mix:
    if not req.batch_ok:
        decisions.append(
            Decision(
                "OPT-BATCH-SKIP",
                "cost",
                "no batch API",
                "batch_ok is false: answers are needed interactively.",
                {"batch_ok": False},
            )
        )
        return mix
    new = replace(mix, batch=True)
    discounts = {t.model.name: t.model.price.batch_discount for t in plan.tiers if t.model.price}
    if add("+ batch API", "OPT-BATCH", new) <= 0:
        decisions.append(
            Decision(
                "OPT-BATCH-SKIP",
                "cost",
                "no batch API",
                "batch_ok is true, but no serving tier is billed per token with a batch discount.",
                {"batch_ok": True},
            )
        )
        return mix
    decisions.append(
        Decision(
            "OPT-BATCH",
            "cost",
            "batch API",
            "batch_ok is true: send traffic through the providers' batch APIs at their discount "
            f"({', '.join(f'{k} {v:.0%}' for k, v in discounts.items()) or 'none applicable'}).",
            {"batch_ok": True},
        )
    )
    return new


def _compression(req: Requirements, catalog: Catalog, mix: Mix, decisions: list[Decision], add: Add) -> Mix:
    tokens = req.traffic.avg_input_tokens
    threshold = catalog.a("compression_min_input_tokens")
    if tokens < threshold:
        decisions.append(
            Decision(
                "OPT-COMPRESS-SKIP",
                "cost",
                "no prompt compression",
                f"Prompts average {tokens:g} input tokens (< {threshold:g}): too short to be worth compressing.",
                {"traffic.avg_input_tokens": tokens},
            )
        )
        return mix
    cut = catalog.a("compression_input_reduction")
    new = replace(mix, input_factor=mix.input_factor * (1.0 - cut))
    if add("+ prompt compression", "OPT-COMPRESS", new) <= 0:
        decisions.append(
            Decision(
                "OPT-COMPRESS-SKIP",
                "cost",
                "no prompt compression",
                "No serving tier is billed per input token: compressing prompts would not lower the bill.",
                {"traffic.avg_input_tokens": tokens},
            )
        )
        return mix
    decisions.append(
        Decision(
            "OPT-COMPRESS",
            "cost",
            "prompt/context compression",
            f"Prompts average {tokens:g} input tokens (>= {threshold:g}); "
            f"compressing removes ~{cut:.0%} of them. "
            "Check the quality cost with `portico eval` before enabling it.",
            {"traffic.avg_input_tokens": tokens, "input_reduction": cut},
        )
    )
    return new
