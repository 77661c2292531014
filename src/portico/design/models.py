"""Model selection: which catalog models may serve this traffic, and the fast / powerful /
fallback tiers chosen from them, each with the rule and numbers that picked it."""

from __future__ import annotations

from dataclasses import dataclass

from portico.design.catalog import Catalog, CatalogModel
from portico.design.decision import Decision, Number, r
from portico.design.pricing import Load, monthly_cost
from portico.design.requirements import Requirements

# Below this p95 only a model next to the gateway can answer: network round trips to a
# hosted API alone take most of it.
SELF_HOST_LATENCY_MS = 100.0
SMALL_MODEL_PARAMS_B = 8.0


@dataclass(frozen=True, slots=True)
class Tier:
    tier: str  # fast | powerful | fallback
    model: CatalogModel
    p95_ms: float
    reasons: tuple[Decision, ...]


@dataclass(frozen=True, slots=True)
class ModelPlan:
    tiers: tuple[Tier, ...]
    excluded: tuple[Decision, ...]
    decisions: tuple[Decision, ...]
    latency_met: bool
    latency_needs_small_model: bool

    def get(self, tier: str) -> Tier | None:
        return next((t for t in self.tiers if t.tier == tier), None)


def p95_ms(m: CatalogModel, req: Requirements, catalog: Catalog) -> float:
    return m.typical_latency_ms(req.traffic.avg_output_tokens) * catalog.a("p95_over_typical")


def full_traffic_cost(m: CatalogModel, req: Requirements, catalog: Catalog) -> float:
    t = req.traffic
    load = Load(req.requests_per_month, t.avg_input_tokens, t.avg_output_tokens, t.effective_peak_rps)
    return monthly_cost(m, load, catalog)


def _exclusion(m: CatalogModel, req: Requirements) -> Decision | None:
    """The first rule that rules a model out, or None if it is a candidate."""
    res = req.data.residency
    if m.hosting == "api" and res != "any" and res not in m.regions:
        return Decision(
            "M-RESIDENCY",
            "model",
            f"exclude {m.name}",
            f"Data must stay in '{res}'; {m.name} is served from {list(m.regions)}.",
            {"data.residency": res},
        )
    if "hipaa" in req.compliance and not m.baa:
        return Decision(
            "M-HIPAA",
            "model",
            f"exclude {m.name}",
            f"HIPAA needs a signed BAA; none is listed for {m.name}.",
            {"baa": False},
        )
    needed = req.traffic.avg_input_tokens + req.traffic.avg_output_tokens
    if m.context_window < needed:
        return Decision(
            "M-CONTEXT",
            "model",
            f"exclude {m.name}",
            f"{m.name}'s context window ({m.context_window}) is below the {needed:g} tokens a request needs.",
            {"context_window": m.context_window, "tokens_per_request": needed},
        )
    if m.hosting == "self_hosted" and not _self_hosting_warranted(req):
        return Decision(
            "M-SELFHOST-NOT-NEEDED",
            "model",
            f"exclude {m.name}",
            f"Self-hosting {m.name} is only proposed when p95 < {SELF_HOST_LATENCY_MS:g} ms, residency "
            "is constrained or data sensitivity is high; none holds.",
            {
                "latency_p95_ms": req.latency_p95_ms,
                "data.residency": res,
                "data.sensitivity": req.data.sensitivity,
            },
        )
    if m.hosting == "api" and req.latency_p95_ms < SELF_HOST_LATENCY_MS:
        return Decision(
            "M-SELFHOST-LATENCY",
            "model",
            f"exclude {m.name}",
            f"p95 < {SELF_HOST_LATENCY_MS:g} ms leaves no room for a hosted API's network round trip.",
            {"latency_p95_ms": req.latency_p95_ms},
        )
    return None


def _self_hosting_warranted(req: Requirements) -> bool:
    return req.latency_p95_ms < SELF_HOST_LATENCY_MS or req.data.residency != "any" or req.data.sensitivity == "high"


def _rank_powerful(cands: list[CatalogModel], req: Requirements, catalog: Catalog) -> CatalogModel:
    best = max(m.quality.score for m in cands)
    tie = catalog.a("quality_tie")
    # Rounded so that a score exactly at the margin counts as a tie on every platform.
    top = [m for m in cands if round(m.quality.score, 4) >= round(best - tie, 4)]
    return min(top, key=lambda m: (full_traffic_cost(m, req, catalog), -m.quality.score, m.name))


def select_models(req: Requirements, catalog: Catalog) -> ModelPlan:
    excluded: list[Decision] = []
    eligible: list[CatalogModel] = []
    for m in catalog.models:
        why = _exclusion(m, req)
        if why is not None:
            excluded.append(why)
        elif m.hosting != "embedded":
            eligible.append(m)
    decisions: list[Decision] = []
    target = req.latency_p95_ms
    fast_enough = [m for m in eligible if p95_ms(m, req, catalog) <= target]
    latency_met = bool(fast_enough)
    if latency_met:
        pool = fast_enough
    else:
        pool = eligible
        if eligible:
            quickest = min(eligible, key=lambda m: p95_ms(m, req, catalog))
            decisions.append(
                Decision(
                    "M-LATENCY-UNMET",
                    "latency",
                    "relax latency",
                    f"No eligible model reaches p95 <= {target:g} ms for "
                    f"{req.traffic.avg_output_tokens:g} output "
                    f"tokens; the quickest, {quickest.name}, needs ~{p95_ms(quickest, req, catalog):.0f} ms.",
                    {"latency_p95_ms": target, "best_p95_ms": r(p95_ms(quickest, req, catalog), 0)},
                )
            )
    small_only = latency_met and all((m.params_b or 1e9) <= SMALL_MODEL_PARAMS_B for m in pool)
    tiers: list[Tier] = []
    if pool:
        tiers.extend(_choose_tiers(pool, eligible, req, catalog, latency_met))
    excluded_names = {x.choice.removeprefix("exclude ") for x in excluded}
    local = next((m for m in catalog.models if m.hosting == "embedded" and m.name not in excluded_names), None)
    if local is not None and local not in [t.model for t in tiers] and not any(t.tier == "fallback" for t in tiers):
        tiers.append(
            Tier(
                "fallback",
                local,
                p95_ms(local, req, catalog),
                (
                    Decision(
                        "T-FALLBACK-LOCAL",
                        "model",
                        local.name,
                        "No other eligible model on a separate endpoint: the embedded local model keeps "
                        "the service answering (degraded quality) when upstreams fail.",
                        {"quality": local.quality.score},
                    ),
                ),
            )
        )
    return ModelPlan(tuple(tiers), tuple(excluded), tuple(decisions), latency_met, small_only)


def _choose_tiers(
    pool: list[CatalogModel],
    eligible: list[CatalogModel],
    req: Requirements,
    catalog: Catalog,
    latency_met: bool,
) -> list[Tier]:
    powerful = _powerful_tier(pool, req, catalog, latency_met)
    fast = _fast_tier(pool, powerful.model, req, catalog)
    tiers = [t for t in (fast, powerful) if t is not None]
    fallback = _fallback_tier(eligible, [t.model for t in tiers], powerful.model, req, catalog)
    return tiers + ([fallback] if fallback is not None else [])


def _powerful_tier(pool: list[CatalogModel], req: Requirements, catalog: Catalog, latency_met: bool) -> Tier:
    strong = [m for m in pool if req.task in m.strengths] if req.task != "general" else pool
    ranked = strong or pool
    powerful = _rank_powerful(ranked, req, catalog)
    top = max(ranked, key=lambda m: (m.quality.score, m.name))
    cost = full_traffic_cost(powerful, req, catalog)
    within = f" within p95 {req.latency_p95_ms:g} ms" if latency_met else ""
    q = powerful.quality
    if top is powerful or top.quality.score == q.score:
        reason = (
            f"Highest quality proxy among {len(ranked)} eligible models{within} "
            f"({q.benchmark} {q.score:.3f}, {q.source})."
        )
    else:
        reason = (
            f"Within {catalog.a('quality_tie'):g} of the best quality proxy among {len(ranked)} eligible "
            f"models{within} ({top.name} {top.quality.score:.3f}; {powerful.name} {q.score:.3f}, "
            f"{q.source}) and cheaper for this traffic (${cost:,.0f} vs "
            f"${full_traffic_cost(top, req, catalog):,.0f}/month)."
        )
    numbers: dict[str, Number] = {
        "quality": q.score,
        "best_quality": top.quality.score,
        "p95_ms": r(p95_ms(powerful, req, catalog), 0),
        "monthly_usd_all_traffic": r(cost),
    }
    why = [Decision("T-POWERFUL", "model", powerful.name, reason, numbers)]
    if req.task != "general" and strong:
        why.append(
            Decision(
                "M-DOMAIN",
                "model",
                powerful.name,
                f"Task '{req.task}': only models listing it as a strength were ranked.",
                {"task": req.task},
            )
        )
    return Tier("powerful", powerful, p95_ms(powerful, req, catalog), tuple(why))


def _fast_tier(pool: list[CatalogModel], powerful: CatalogModel, req: Requirements, catalog: Catalog) -> Tier | None:
    floor = catalog.a("fast_tier_quality_floor")
    ceiling = full_traffic_cost(powerful, req, catalog)
    cheaper = [
        m
        for m in pool
        if m is not powerful and m.quality.score >= floor and full_traffic_cost(m, req, catalog) < ceiling
    ]
    if not cheaper:
        return None
    fast = min(cheaper, key=lambda m: (full_traffic_cost(m, req, catalog), -m.quality.score, m.name))
    why = Decision(
        "T-FAST",
        "model",
        fast.name,
        f"Cheapest eligible model with quality >= {floor:.2f} (scores {fast.quality.score:.3f}); "
        "takes the simple share of traffic.",
        {
            "quality": fast.quality.score,
            "p95_ms": r(p95_ms(fast, req, catalog), 0),
            "monthly_usd_all_traffic": r(full_traffic_cost(fast, req, catalog)),
        },
    )
    return Tier("fast", fast, p95_ms(fast, req, catalog), (why,))


def _fallback_tier(
    eligible: list[CatalogModel],
    chosen: list[CatalogModel],
    powerful: CatalogModel,
    req: Requirements,
    catalog: Catalog,
) -> Tier | None:
    # A self-hosted standby would bill its servers while idle: fallbacks are hosted APIs,
    # else the embedded model (added by the caller).
    others = [m for m in eligible if m not in chosen and m.endpoint != powerful.endpoint and m.hosting == "api"]
    if not others:
        return None
    fb = max(others, key=lambda m: (m.quality.score, -full_traffic_cost(m, req, catalog), m.name))
    why = Decision(
        "T-FALLBACK",
        "model",
        fb.name,
        f"Best remaining model on a different endpoint than {powerful.name} ({fb.endpoint}), "
        "so one provider outage does not take the service down.",
        {"quality": fb.quality.score},
    )
    return Tier("fallback", fb, p95_ms(fb, req, catalog), (why,))
