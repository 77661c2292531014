"""The whole design: run every rule table in order and collect the decisions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from portico.design.approach import Approach, choose_approach
from portico.design.capacity import Features, GatewayCapacity, plan_gateway, plan_models
from portico.design.catalog import Catalog
from portico.design.controls import Control, plan_controls
from portico.design.cost import MIN_REPEAT_SHARE_FOR_CACHE, CostModel, build_cost_model, components
from portico.design.decision import Decision, r
from portico.design.models import ModelPlan, p95_ms, select_models
from portico.design.requirements import Requirements, defaults_applied


@dataclass(frozen=True, slots=True)
class Unmet:
    requirement: str
    rule: str
    detail: str
    relaxations: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "rule": self.rule,
            "detail": self.detail,
            "relaxations": list(self.relaxations),
        }


@dataclass(frozen=True, slots=True)
class Design:
    requirements: Requirements
    catalog: Catalog
    approach: Approach
    models: ModelPlan
    gateway: GatewayCapacity
    model_capacity: tuple[Decision, ...]
    cost: CostModel
    controls: tuple[Control, ...]
    control_decisions: tuple[Decision, ...]
    unmet: tuple[Unmet, ...]

    @property
    def features(self) -> Features:
        return _features(self.requirements, self.approach)

    @property
    def retention_days(self) -> int:
        return int(self.control_decisions[0].numbers["retention_days"] or 0)

    def decisions(self) -> list[Decision]:
        return [
            *self.approach.decisions,
            *self.models.excluded,
            *self.models.decisions,
            *(d for t in self.models.tiers for d in t.reasons),
            *self.cost.decisions,
            *self.gateway.decisions,
            *self.model_capacity,
            *self.control_decisions,
        ]

    def to_json(self) -> dict[str, Any]:
        req = self.requirements
        budget = req.budget.usd_per_month
        final = self.cost.final
        return {
            "use_case": req.use_case,
            "requirements": req.model_dump(mode="json"),
            "defaults_applied": stated_defaults(req, self.catalog),
            "catalog_version": self.catalog.version,
            "approach": {
                "primary": self.approach.primary,
                "components": list(self.approach.components),
                "reasons": [d.to_dict() for d in self.approach.decisions],
            },
            "tiers": [
                {
                    "tier": t.tier,
                    "model": t.model.name,
                    "provider": t.model.provider,
                    "hosting": t.model.hosting,
                    "upstream_model": t.model.upstream_model or t.model.name,
                    "p95_ms_estimate": r(t.p95_ms, 0),
                    "quality": t.model.quality.score,
                    "quality_source": t.model.quality.source,
                    "reasons": [d.to_dict() for d in t.reasons],
                }
                for t in self.models.tiers
            ],
            "excluded_models": [d.to_dict() for d in self.models.excluded],
            "optimisations": [d.to_dict() for d in self.cost.decisions],
            "cost": {
                "currency": "USD",
                "period": "month",
                "monthly_total": r(final.total),
                "baseline_total": r(self.cost.baseline.total),
                "per_component": {k: r(v) for k, v in final.components.items()},
                "steps": [s.to_dict() for s in self.cost.steps],
                "budget": budget,
                "within_budget": None if budget is None else final.total <= budget,
            },
            "capacity": {
                "gateway_replicas": self.gateway.replicas,
                "cpu_ms_per_request": r(self.gateway.cpu_ms_per_request),
                "peak_rps_now": r(self.gateway.peak_rps_now),
                "peak_rps_horizon": r(self.gateway.peak_rps_horizon),
                "redis": self.gateway.redis,
                "postgres": self.gateway.postgres,
                "reasons": [d.to_dict() for d in (*self.gateway.decisions, *self.model_capacity)],
            },
            "controls": [c.to_dict() for c in self.controls],
            "audit_retention_days": self.retention_days,
            "unmet": [u.to_dict() for u in self.unmet],
            "decisions": [d.to_dict() for d in self.decisions()],
        }


def stated_defaults(req: Requirements, catalog: Catalog) -> dict[str, Any]:
    """Each field the user left out, with the value (or assumption) the design used."""
    assumed = {
        "traffic.simple_query_share": catalog.a("default_simple_query_share"),
        "traffic.cascade_escalation": catalog.a("default_cascade_escalation"),
        "traffic.peak_rps": req.traffic.effective_peak_rps,
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


def _features(req: Requirements, approach: Approach) -> Features:
    return Features(
        cache=req.traffic.repeat_query_share >= MIN_REPEAT_SHARE_FOR_CACHE,
        pii_guard=req.data.pii or req.data.sensitivity == "high" or bool({"hipaa", "pci"} & set(req.compliance)),
        rag="rag" in approach.components,
    )


def _core(req: Requirements, catalog: Catalog) -> Design:
    models = select_models(req, catalog)
    approach = choose_approach(req, latency_needs_small_model=models.latency_needs_small_model)
    gateway = plan_gateway(req, _features(req, approach), catalog)
    cost = build_cost_model(req, models, catalog, gateway.infra_costs(catalog))
    controls, control_decisions = plan_controls(req, rag="rag" in approach.components)
    return Design(
        req,
        catalog,
        approach,
        models,
        gateway,
        plan_models(req, models, cost.mix, gateway),
        cost,
        controls,
        control_decisions,
        (),
    )


def design(req: Requirements, catalog: Catalog) -> Design:
    """Deterministic: the same requirements and catalog always give the same design."""
    core = _core(req, catalog)
    unmet: list[Unmet] = []
    if not any(t.tier != "fallback" for t in core.models.tiers):
        unmet.append(
            Unmet(
                "models",
                "M-NONE",
                "No catalog model passes the constraints: " + "; ".join(x.reason for x in core.models.excluded[:5]),
                (),
            )
        )
    elif not core.models.latency_met:
        unmet.append(_latency_unmet(core))
    budget = req.budget.usd_per_month
    if budget is not None and core.cost.final.total > budget:
        unmet.append(_budget_unmet(core, budget))
    return replace(core, unmet=tuple(unmet))


def _latency_unmet(d: Design) -> Unmet:
    req, cat = d.requirements, d.catalog
    target = req.latency_p95_ms
    factor = cat.a("p95_over_typical")
    relax: list[dict[str, Any]] = []
    tiers = [t.model for t in d.models.tiers if t.model.hosting != "embedded"]
    if tiers:
        quickest = min(tiers, key=lambda m: p95_ms(m, req, cat))
        cap = (target / factor - quickest.latency.ttft_ms) * quickest.latency.output_tok_s / 1000.0
        if cap >= 1:
            relax.append(
                {
                    "change": f"cap answers at ~{int(cap)} output tokens (max_tokens)",
                    "model": quickest.name,
                    "p95_ms": r(target, 0),
                }
            )
        relax.append(
            {
                "change": "stream and hold the target on time to first token",
                "model": quickest.name,
                "ttft_p95_ms": r(quickest.latency.ttft_ms * factor, 0),
            }
        )
        relax.append(
            {
                "change": f"raise latency_p95_ms to {p95_ms(quickest, req, cat):.0f}",
                "model": quickest.name,
                "p95_ms": r(p95_ms(quickest, req, cat), 0),
            }
        )
    return Unmet(
        "latency_p95_ms",
        "M-LATENCY-UNMET",
        f"No eligible model answers {req.traffic.avg_output_tokens:g} output tokens within "
        f"p95 {target:g} ms (estimate: typical latency x {factor:g}).",
        tuple(relax),
    )


def _budget_unmet(d: Design, budget: float) -> Unmet:
    req = d.requirements
    relax: list[dict[str, Any]] = []

    def option(change: str, alt: Requirements) -> None:
        total = _core(alt, d.catalog).cost.final.total
        relax.append({"change": change, "monthly_total": r(total), "meets_budget": total <= budget})

    mix = d.cost.mix
    if d.models.get("fast") is not None:
        all_fast = replace(mix, fast_share=1.0, powerful_share=0.0)
        total = sum(components(req, d.models, all_fast, d.catalog, d.gateway.infra_costs(d.catalog)).values())
        relax.append(
            {
                "change": "send all traffic to the fast tier (accept its quality; verify with eval)",
                "monthly_total": r(total),
                "meets_budget": total <= budget,
            }
        )
    if req.data.residency != "any":
        option(
            f"allow providers hosted outside {req.data.residency} (data.residency: any; GDPR needs SCCs)",
            req.model_copy(update={"data": req.data.model_copy(update={"residency": "any"})}),
        )
    if req.data.sensitivity == "high":
        option(
            "treat data as medium sensitivity (hosted APIs with PII pseudonymization only)",
            req.model_copy(update={"data": req.data.model_copy(update={"sensitivity": "medium"})}),
        )
    if not req.batch_ok:
        option("accept batch turnaround (batch_ok: true)", req.model_copy(update={"batch_ok": True}))
    relax.append(
        {
            "change": f"raise budget.usd_per_month to {d.cost.final.total:,.0f}",
            "monthly_total": r(d.cost.final.total),
            "meets_budget": True,
        }
    )
    return Unmet(
        "budget.usd_per_month",
        "BUDGET-UNMET",
        f"The optimised plan costs ${d.cost.final.total:,.0f}/month, over the ${budget:,.0f} budget "
        f"by ${d.cost.final.total - budget:,.0f}.",
        tuple(relax),
    )
