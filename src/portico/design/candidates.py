"""Candidate plans: which models serve the traffic, and how (one model, a router or cascade
over a fast and a strong model, an ensemble), interactively or through a batch API.

The search enumerates every combination the eligible models allow; `estimate` scores each
and `search` picks. Models are first filtered by the hard (compliance) constraints here,
each exclusion with its rule.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from portico.design.catalog import Catalog, CatalogModel
from portico.design.decision import Decision
from portico.design.measurements import Measurements
from portico.design.requirements import Requirements

# Below this p95 only a model next to the gateway can answer: a hosted API's network round
# trip alone takes most of it (seed, Model Selection: latency < 100 ms -> small fine-tuned model).
SELF_HOST_LATENCY_MS = 100.0
ENSEMBLE_SIZE = 3


@dataclass(frozen=True, slots=True)
class Plan:
    kind: str  # single | route | cascade | ensemble
    primary: CatalogModel  # the single model, the strong side of a pair, the best ensemble member
    fast: CatalogModel | None = None
    members: tuple[CatalogModel, ...] = ()
    strong_share: float = 1.0  # route: share sent to primary; cascade: share escalated to it
    batch: bool = False
    share_basis: str = ""  # how strong_share was set (quality gap or budget)

    @property
    def models(self) -> tuple[CatalogModel, ...]:
        if self.kind == "ensemble":
            return self.members
        return (self.fast, self.primary) if self.fast is not None else (self.primary,)

    @property
    def label(self) -> str:
        mode = " (batch API)" if self.batch else ""
        if self.kind == "single":
            return f"{self.primary.name}{mode}"
        if self.kind == "ensemble":
            return "ensemble " + " + ".join(m.name for m in self.members) + mode
        assert self.fast is not None
        verb = "route" if self.kind == "route" else "cascade"
        return f"{verb} {self.fast.name} -> {self.primary.name} ({self.strong_share:.0%} strong){mode}"


def self_hosting_warranted(req: Requirements) -> bool:
    lat = req.latency_target_ms
    fast_need = (lat is not None and lat < SELF_HOST_LATENCY_MS) or (
        req.ttft_ms is not None and req.ttft_ms < SELF_HOST_LATENCY_MS
    )
    return fast_need or req.data.in_house or req.residency != "any" or req.sensitivity == "high"


def exclusion(m: CatalogModel, req: Requirements) -> Decision | None:
    """The first hard constraint that rules a model out, or None if it is eligible."""
    res = req.residency
    if m.hosting == "api" and req.data.in_house:
        return Decision(
            "M-IN-HOUSE", "model", f"exclude {m.name}",
            f"data.in_house: the data may not leave our infrastructure; {m.name} is a hosted API.",
            {"data.in_house": True},
        )  # fmt: skip
    if m.hosting == "api" and res != "any" and res not in m.regions:
        return Decision(
            "M-RESIDENCY", "model", f"exclude {m.name}",
            f"Data must stay in '{res}'; {m.name} is served from {list(m.regions)}.",
            {"data.residency": res},
        )  # fmt: skip
    if "hipaa" in req.compliance and not m.baa:
        return Decision(
            "M-HIPAA", "model", f"exclude {m.name}",
            f"HIPAA needs a signed BAA or self-hosting; none is listed for {m.name}.",
            {"baa": False},
        )  # fmt: skip
    needed = req.traffic.avg_input_tokens + req.traffic.avg_output_tokens
    if m.context_window < needed:
        return Decision(
            "M-CONTEXT", "model", f"exclude {m.name}",
            f"{m.name}'s context window ({m.context_window}) is below the {needed:g} tokens a request needs.",
            {"context_window": m.context_window, "tokens_per_request": needed},
        )  # fmt: skip
    if req.agent.tool_use and not m.tool_use:
        return Decision(
            "M-TOOLS", "model", f"exclude {m.name}",
            f"The workload calls tools; {m.name} has no tool calling.",
            {"agent.tool_use": True},
        )  # fmt: skip
    if req.task in ("code", "reasoning") and req.task not in m.strengths:
        return Decision(
            "M-DOMAIN", "model", f"exclude {m.name}",
            f"Task '{req.task}': {m.name} does not list it as a strength.",
            {"task": req.task},
        )  # fmt: skip
    if m.hosting == "self_hosted" and not self_hosting_warranted(req):
        return Decision(
            "M-SELFHOST-NOT-NEEDED", "model", f"exclude {m.name}",
            f"Self-hosting {m.name} is proposed only when p95 or TTFT < {SELF_HOST_LATENCY_MS:g} ms, data must "
            "stay in-house or in a region, or sensitivity is high (seed, Model Selection); none holds.",
            {"latency_p95_ms": req.latency_target_ms, "data.residency": res, "data.sensitivity": req.sensitivity},
        )  # fmt: skip
    lat = req.latency_target_ms
    if m.hosting == "api" and lat is not None and lat < SELF_HOST_LATENCY_MS and not req.batch_ok:
        return Decision(
            "M-SELFHOST-LATENCY", "model", f"exclude {m.name}",
            f"p95 < {SELF_HOST_LATENCY_MS:g} ms leaves no room for a hosted API's network round trip "
            "(seed, Model Selection: latency < 100 ms -> small fine-tuned model, 7B quantized).",
            {"latency_p95_ms": lat},
        )  # fmt: skip
    return None


def eligible_models(req: Requirements, catalog: Catalog) -> tuple[list[CatalogModel], list[Decision]]:
    ok: list[CatalogModel] = []
    out: list[Decision] = []
    for m in catalog.models:
        why = exclusion(m, req)
        if why is not None:
            out.append(why)
        else:
            ok.append(m)
    return ok, out


def share_for_gap(q_fast: float, q_strong: float, target: float, meas: Measurements) -> float | None:
    """Strong-model share a router needs to lift the pair's quality to ``target`` (None if it cannot).

    The share comes from the measured curve of gap recovered vs strong share (docs/routing.md):
    recovering half the gap takes 26.7% of the traffic at the strong model, not half."""
    if q_strong <= q_fast or target >= q_strong or target <= q_fast:
        return None
    recovered = (target - q_fast) / (q_strong - q_fast)
    return meas.get("router_strong_share_curve").at(recovered)


def pair_quality(q_fast: float, q_strong: float, share: float, meas: Measurements) -> float:
    """Inverse of `share_for_gap`: the quality a router reaches with ``share`` at the strong model."""
    pts = sorted((y, x) for x, y in meas.get("router_strong_share_curve").points)
    lo, hi = pts[0], pts[-1]
    for a, b in itertools.pairwise(pts):
        if a[0] <= share <= b[0]:
            lo, hi = a, b
            break
    recovered = lo[1] + (hi[1] - lo[1]) * ((share - lo[0]) / (hi[0] - lo[0]) if hi[0] > lo[0] else 0.0)
    return q_fast + recovered * (q_strong - q_fast)


def ensemble_quality(scores: list[float], correlation: float) -> float:
    """A 3-model majority vote: independent errors would give p^3 + 3p^2(1-p) (p = the mean
    score); correlated errors realise only part of that gain over the best member."""
    best = max(scores)
    p = sum(scores) / len(scores)
    independent = p**3 + 3 * p**2 * (1 - p)
    return max(best, best + (1.0 - correlation) * (independent - best))


def enumerate_plans(req: Requirements, models: list[CatalogModel], meas: Measurements) -> list[Plan]:
    """Every plan the eligible models allow (the search adds budget-limited shares)."""
    task = req.task
    serving = [m for m in models if m.hosting != "embedded"]
    plans: list[Plan] = []
    modes = [False, True] if req.batch_ok else [False]
    target = req.quality.min_accuracy
    for batch in modes:
        for m in serving:
            plans.append(Plan("single", m, batch=batch))
        for f in serving:
            for s in serving:
                qf, qs = f.quality_for(task), s.quality_for(task)
                if f.name == s.name or qf >= qs:
                    continue
                gap = share_for_gap(qf, qs, target, meas)
                if gap is None:
                    continue
                basis = f"quality gap: reaching {target:g} takes {gap:.1%} of traffic at {s.name}"
                plans.append(Plan("route", s, fast=f, strong_share=gap, batch=batch, share_basis=basis))
                if not batch:
                    plans.append(Plan("cascade", s, fast=f, strong_share=gap, batch=batch, share_basis=basis))
        if req.quality.accuracy_critical and len(serving) >= ENSEMBLE_SIZE:
            by_quality = sorted(serving, key=lambda m: (-m.quality_for(task), m.name))
            top = tuple(by_quality[:ENSEMBLE_SIZE])
            plans.append(Plan("ensemble", top[0], members=top, batch=batch))
    return plans
