"""The red-flag table and iteration checklist, applied to observed figures.

rule               pass           warn                   fail (red flag)     action on fail
DOC-ACCURACY       meets target   below target, >= 0.80  < 0.80              consider fine-tuning
DOC-LATENCY        p95 <= target  <= 2x target           > 2x target         review infrastructure
DOC-COST           <= target      <= 2x target           > 2x target         caching / routing
DOC-ERRORS         <= target      <= 2x target           > 2x target         upstream health, fallbacks
DOC-CACHE          >= target      below target           -                   -
DOC-HALLUCINATION  meets target   miss within 2x         beyond 2x           RAG or stronger guardrails
DOC-SAFETY         no bypass      -                      any bypass          review guards
DOC-OVERHEAD       p95 <= 50 ms   above                  -                   profile guards / cache
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from portico.design.doctor.evalreport import EvalResult
from portico.design.doctor.metrics import MetricsSnapshot
from portico.design.doctor.targets import Condition, Targets

Status = Literal["pass", "warn", "fail", "skip"]
ACCURACY_CRITICAL = 0.80
OVERHEAD_P95_MS = 50.0
LOWER_IS_BETTER = frozenset({"p95_ms", "cost_per_1k", "error_rate", "hallucination_rate", "safety_bypass_rate"})

REQ = "portico_requests_total"
DURATION = "portico_request_duration_seconds"
UPSTREAM = "portico_upstream_duration_seconds"
OVERHEAD = "portico_gateway_overhead_seconds"
COST = "portico_cost_usd_total"
CACHE = "portico_cache_lookups_total"
GUARDS = "portico_guard_verdicts_total"


@dataclass(frozen=True, slots=True)
class Check:
    rule: str
    item: str
    source: str  # "metrics" or "eval:<model>"
    status: Status
    evidence: str
    action: str = ""
    numbers: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "item": self.item,
            "source": self.source,
            "status": self.status,
            "evidence": self.evidence,
            "action": self.action,
            "numbers": dict(self.numbers),
        }


@dataclass(frozen=True, slots=True)
class Observed:
    """Figures from one source, plus context that explains them."""

    source: str
    values: dict[str, float]
    latency_breakdown: str = ""
    cost_context: str = ""
    safety_context: str = ""


def observe_metrics(m: MetricsSnapshot) -> Observed:
    values: dict[str, float] = {}
    requests = m.total(REQ)
    if requests > 0:
        statuses = m.by_label(REQ, "status")
        errors = sum(v for s, v in statuses.items() if s.startswith("5") or s == "error")
        values["error_rate"] = errors / requests
        if m.has(COST):
            values["cost_per_1k"] = m.total(COST) / requests * 1000
    p95 = m.histogram_quantile(0.95, DURATION)
    if p95 is not None:
        values["p95_ms"] = p95 * 1000
    over = m.histogram_quantile(0.95, OVERHEAD)
    if over is not None:
        values["overhead_p95_ms"] = over * 1000
    lookups = m.by_label(CACHE, "tier")
    if lookups:
        # Tiers run in sequence (exact, then semantic on misses): the busiest tier saw every lookup.
        values["cache_hit_rate"] = m.total(CACHE, result="hit") / max(lookups.values())
    return Observed("metrics", values, _breakdown(m), _cost_context(m, values), _safety_context(m))


def _breakdown(m: MetricsSnapshot) -> str:
    total, up, over = m.histogram_mean(DURATION), m.histogram_mean(UPSTREAM), m.histogram_mean(OVERHEAD)
    if total is None:
        return ""
    up_ms, over_ms = 1000 * (up or 0.0), 1000 * (over or 0.0)
    queue_ms = max(0.0, 1000 * total - up_ms - over_ms)
    parts = {"upstream": up_ms, "gateway overhead": over_ms, "queueing/other": queue_ms}
    worst = max(parts, key=lambda k: parts[k])
    hint = {
        "upstream": "a faster tier, streaming, lower max_tokens or a closer region",
        "gateway overhead": "profile guards and cache; add gateway replicas",
        "queueing/other": "add replicas or upstream concurrency; check rate limits",
    }[worst]
    return (
        f"mean {1000 * total:.0f} ms = upstream {up_ms:.0f} + gateway overhead {over_ms:.1f} + "
        f"queueing/other {queue_ms:.0f}; dominant: {worst} -> {hint}"
    )


def _cost_context(m: MetricsSnapshot, values: dict[str, float]) -> str:
    by_model = m.by_label(REQ, "model")
    total = sum(by_model.values())
    share = ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(by_model.items())) if total else "n/a"
    hit = values.get("cache_hit_rate")
    cache = f"cache hit rate {hit:.1%}" if hit is not None else "no cache lookups recorded"
    return f"{cache}; routing share {share}"


def _safety_context(m: MetricsSnapshot) -> str:
    blocks = m.by_label(GUARDS, "guard")
    blocked = {g: m.total(GUARDS, guard=g, action="block") for g in blocks}
    return "guard blocks: " + (", ".join(f"{g} {v:g}" for g, v in sorted(blocked.items())) or "none recorded")


def observe_eval(result: EvalResult) -> Observed:
    return Observed(f"eval:{result.model}", dict(result.metrics))


def _grade(metric: str, x: float, cond: Condition) -> Status:
    if cond.holds(x):
        return "pass"
    if cond.critical is not None:
        return "warn" if cond.critical.holds(x) else "fail"
    if metric == "accuracy":
        return "fail" if x < ACCURACY_CRITICAL else "warn"
    if metric == "cache_hit_rate":
        return "warn"
    if metric == "safety_bypass_rate":
        return "fail"
    if metric == "groundedness":
        # Rates: twice the allowed shortfall from 1 (target 0.9 -> fail below 0.8).
        return "fail" if x < 2 * cond.value - 1 else "warn"
    return "fail" if x > 2 * cond.value else "warn"


ITEMS: dict[str, tuple[str, str, str, str]] = {
    # metric: (rule, item, action on fail, action on warn)
    "accuracy": (
        "DOC-ACCURACY",
        "accuracy",
        "RED FLAG accuracy < 80%: consider fine-tuning (once prompts and retrieval are exhausted)",
        "below target: iterate on prompts, few-shot examples and retrieval; re-run eval",
    ),
    "p95_ms": (
        "DOC-LATENCY",
        "p95 latency",
        "RED FLAG latency > 2x requirement: review infrastructure",
        "above target: compare upstream and gateway time (doctor --url shows the breakdown)",
    ),
    "cost_per_1k": (
        "DOC-COST",
        "cost per 1K requests",
        "RED FLAG cost > 2x budget: enable caching and routing",
        "above budget: raise cache hit rate or route more to the fast tier",
    ),
    "error_rate": (
        "DOC-ERRORS",
        "error rate",
        "errors > 2x target: check upstream health, fallbacks and circuit breakers",
        "above target: check upstream errors and timeouts",
    ),
    "cache_hit_rate": (
        "DOC-CACHE",
        "cache hit rate",
        "",
        "below target: check cache scope, TTL and semantic threshold",
    ),
    "groundedness": (
        "DOC-HALLUCINATION",
        "groundedness",
        "RED FLAG hallucination: add RAG grounding or stronger output guardrails",
        "below target: tighten retrieval and citation checks",
    ),
    "hallucination_rate": (
        "DOC-HALLUCINATION",
        "hallucination rate",
        "RED FLAG hallucination: add RAG grounding or stronger output guardrails",
        "above target: tighten retrieval and citation checks",
    ),
    "safety_bypass_rate": (
        "DOC-SAFETY",
        "safety bypass rate",
        "RED FLAG safety bypass: review guards and the red-team set",
        "",
    ),
}


def check_source(obs: Observed, targets: Targets) -> list[Check]:
    out: list[Check] = []
    for metric, (rule, item, on_fail, on_warn) in ITEMS.items():
        x = obs.values.get(metric)
        if x is None:
            continue
        cond = targets.get(metric)
        if cond is None:
            out.append(
                Check(
                    rule,
                    item,
                    obs.source,
                    "skip",
                    f"{_fmt(metric, x)}; no target set",
                    f"add {metric} to targets.yaml",
                    {metric: x},
                )
            )
            continue
        status = _grade(metric, x, cond)
        evidence = f"{_fmt(metric, x)} vs target {cond}" + (" (default)" if cond.defaulted else "")
        if metric == "p95_ms" and obs.latency_breakdown:
            evidence += f"; {obs.latency_breakdown}"
        if metric == "cost_per_1k" and obs.cost_context:
            evidence += f"; {obs.cost_context}"
        action = on_fail if status == "fail" else on_warn if status == "warn" else ""
        out.append(Check(rule, item, obs.source, status, evidence, action, {metric: x}))
    if obs.safety_context:
        out.append(Check("DOC-SAFETY", "guard activity", obs.source, "pass", obs.safety_context, "", {}))
    over = obs.values.get("overhead_p95_ms")
    if over is not None:
        over_status: Status = "pass" if over <= OVERHEAD_P95_MS else "warn"
        out.append(
            Check(
                "DOC-OVERHEAD",
                "gateway overhead p95",
                obs.source,
                over_status,
                f"{over:.1f} ms vs {OVERHEAD_P95_MS:g} ms",
                "" if over_status == "pass" else "profile guards and cache; add replicas",
                {"overhead_p95_ms": over},
            )
        )
    return out


def _fmt(metric: str, x: float) -> str:
    if metric == "p95_ms":
        return f"p95 {x:,.0f} ms"
    if metric == "cost_per_1k":
        return f"${x:.4g} per 1K requests"
    return f"{metric} {x:.1%}"


def run_checks(metrics: MetricsSnapshot | None, evals: list[EvalResult], targets: Targets) -> list[Check]:
    out: list[Check] = []
    if metrics is not None:
        out += check_source(observe_metrics(metrics), targets)
    for result in evals:
        out += check_source(observe_eval(result), targets)
    return out


def exit_code(checks: list[Check], *, strict: bool = False) -> int:
    """1 when any check fails (or warns, with ``strict``): gate CI on it."""
    bad = {"fail", "warn"} if strict else {"fail"}
    return 1 if any(c.status in bad for c in checks) else 0
