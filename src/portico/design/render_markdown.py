"""Render ``architecture.md``: the plan search and its result, the cost build-up with the
source of every saving, capacity, controls and compliance, then what an architect hands
over with it: RAG design, eval plan, rollout, failure modes with runbook, alerts."""

from __future__ import annotations

from portico.design.decision import Decision
from portico.design.estimate import Estimate
from portico.design.plan import Design, money, stated_defaults
from portico.design.render_config import ROUTE_NAME, config_dict, live_controls, not_available
from portico.design.render_targets import targets
from portico.design.sections import compliance_statements, eval_plan, failure_modes, handoff, rag_design, rollout


def _money(x: float) -> str:
    return money(x)


def _why(d: Decision) -> str:
    return f"**{d.rule}**: {d.reason}"


def _ms(x: float | None) -> str:
    return "batch" if x is None else f"{x:,.0f}"


def mermaid(d: Design) -> str:
    lines = ["```mermaid", "flowchart LR", '  client(["Client"]) --> auth["Auth: virtual keys"]']
    lines.append('  auth --> limits["Limits: rpm, budget"]')
    lines.append('  limits --> gin["Input guards: PII, injection, content"]')
    prev = "gin"
    if d.cache.enabled:
        lines.append(f'  {prev} --> cache{{{{"Cache: {d.cache.tier}, per {d.cache.partition}"}}}}')
        lines.append("  cache -- hit --> client")
        prev = "cache"
    if d.rag:
        lines.append(f'  {prev} --> rag["RAG: retrieve from {d.requirements.knowledge.size_docs} docs"]')
        prev = "rag"
    c = d.chosen
    if c is not None:
        lines.append(f'  {prev} --> router["{c.plan.kind}"]')
        for i, m in enumerate(c.plan.models):
            lines.append(f'  router --> m{i}["{m.name}<br/>{m.hosting}"]')
        if d.fallback is not None:
            lines.append(f'  router -. on failure .-> fb["{d.fallback.name} (fallback)"]')
        lines.append('  router --> gout["Output guards, metrics, audit"]')
    lines.append("  gout --> client" if c is not None else f"  {prev} --> client")
    if d.gateway.redis:
        lines.append('  limits -.-> redis[("Redis")]')
    if d.gateway.postgres:
        lines.append('  gout -.-> pg[("PostgreSQL")]')
    lines.append("```")
    return "\n".join(lines)


def _row(name: str, e: Estimate) -> str:
    return (
        f"| {name} | {e.plan.label} | {e.quality:.3f} | {_ms(e.p95_ms)} | {_ms(e.ttft_ms)} | "
        f"{_money(e.total)} | {', '.join(e.broken) or 'none'} |"
    )


def _search_section(d: Design) -> list[str]:
    res, req = d.result, d.requirements
    o = ["## Plan search", ""]
    o.append(
        f"{len(res.estimates)} candidate plans (single models, fast + strong pairs routed or cascaded with the strong "
        "share computed from the quality gap, ensembles when accuracy is critical, batch variants when batch is "
        "acceptable) were each scored on quality (catalog proxy vs `min_accuracy` "
        f"{req.quality.min_accuracy:g}), p95"
        + (" and time to first token" if req.ttft_ms is not None else "")
        + ", monthly cost and compliance; the cheapest plan meeting every constraint wins."
    )
    o += ["", "| | plan | quality | p95 ms | TTFT ms | $/month | breaks |", "|---|---|---|---|---|---|---|"]
    if d.chosen is not None:
        o.append(_row("**chosen**", d.chosen))
    if res.runner_up is not None:
        o.append(_row("runner-up", res.runner_up))
    for k, e in res.pareto.items():
        o.append(_row(k.replace("_", " "), e))
    o.append("")
    o += [f"- {_why(x)}" for x in res.decisions]
    if d.chosen is not None and res.runner_up is not None:
        o.append(f"- Runner-up: {_runner_up_reason(d.chosen, res.runner_up)}")
    if not res.feasible and res.binding:
        o.append(
            "- **Binding constraint**: "
            + " or ".join(" + ".join(b) for b in res.binding)
            + ": relaxing it (them) leaves a plan that meets everything else; see the Pareto rows above."
        )
    if res.excluded:
        o += ["", "Excluded models (hard constraints):", ""] + [f"- {x.choice}: {_why(x)}" for x in res.excluded]
    o.append("")
    return o


def _runner_up_reason(chosen: Estimate, runner: Estimate) -> str:
    if runner.feasible:
        extra = _money(runner.total - chosen.total)
        return f"{runner.plan.label} also meets every constraint but costs {extra} more per month."
    return f"{runner.plan.label} ({_money(runner.total)}/month) breaks {', '.join(runner.broken)}."


def _cost_section(d: Design) -> list[str]:
    req = d.requirements
    names: list[str] = []
    for s in d.steps:
        names += [k for k in s.components if k not in names]
    o = [
        "## Cost model (USD per month)",
        "",
        f"{req.requests_per_month:,.0f} requests/month x {req.agent.steps_per_request:g} model call(s), "
        f"{req.traffic.avg_input_tokens:g} input + {req.traffic.avg_output_tokens:g} output tokens each.",
        "",
        "| step | " + " | ".join(names) + " | total | change | source |",
        "|---|" + "---|" * (len(names) + 3),
    ]
    for s in d.steps:
        cells = [_money(s.components[n]) if n in s.components else "-" for n in names]
        o.append(
            f"| {s.name} | " + " | ".join(cells) + f" | **{_money(s.total)}** | {s.change_pct_of_baseline:+.1f}% | "
            f"{s.source} |"
        )
    o.append("")
    o += [f"- {_why(x)}" for x in d.lever_decisions]
    budget = req.budget.usd_per_month
    if budget is not None:
        verdict = "within" if d.total <= budget else "OVER"
        o.append(f"- Budget {_money(budget)}: the plan is **{verdict}** budget at {_money(d.total)}.")
    o.append("")
    return o


def render_markdown(d: Design) -> str:
    req = d.requirements
    cfg = config_dict(d)
    o: list[str] = [
        f"# Architecture: {req.use_case or 'LLM service'}",
        "",
        f"**Summary**: {d.summary()}",
        "",
        "Generated by `portico design`; every decision names its rule and the numbers behind it, every saving "
        "its source (measured: a Portico benchmark or your replay; otherwise labelled an assumption).",
        "",
        "## Request path",
        "",
        mermaid(d),
        "",
    ]
    if d.chosen is not None and d.chosen.plan.kind != "single":
        o += [f"Clients send `model: {ROUTE_NAME}`; the gateway's {d.chosen.plan.kind} picks the model.", ""]
    o += [
        "## Customisation approach",
        "",
        f"Primary: **{d.approach.primary}** ({', '.join(d.approach.components)}).",
        "",
    ]
    o += [f"- {_why(x)}" for x in d.approach.decisions] + [""]
    o += _search_section(d)
    o += _cost_section(d)
    o += ["## Capacity", ""] + [f"- {_why(x)}" for x in (*d.gateway.decisions, *d.servers)] + [""]
    if d.rag:
        o += rag_design(d)
    o += [
        "## Safety and compliance controls",
        "",
        "| id | regime | control | where | in portico.yaml |",
        "|---|---|---|---|---|",
    ]
    for c in live_controls(d, cfg):
        state = "live" if c.live else ("process step" if c.config.startswith("process") else "not yet available")
        o.append(f"| {c.id} | {c.regime} | {c.control} | `{c.config}` | {state} |")
    o += [""] + [f"- {_why(x)}" for x in d.control_decisions]
    o += [*compliance_statements(d), ""]
    o += ["## Keys and budgets", ""]
    budget = req.budget.usd_per_month
    o.append(
        "Create one key per client application (the master key only administers): `portico keys create --name APP "
        + (f"--budget {budget:g} --period month" if budget is not None else "--budget USD --period month")
        + " --rpm N`; teams share a budget with `portico teams create --budget`. Keys live in the database, not in "
        "portico.yaml."
    )
    o.append("")
    o += eval_plan(d) + rollout(d) + failure_modes(d) + handoff(d)
    o += ["## Alerts and targets (the seed's table)", "", "| metric | target | critical |", "|---|---|---|"]
    for metric, levels in targets(d).items():
        o.append(f"| {metric} | `{levels['target']}` | `{levels['critical']}` |")
    o.append("")
    if d.critical:
        o += ["**The plan's own estimate crosses critical levels**: " + "; ".join(d.critical) + ".", ""]
    missing = not_available(d, cfg)
    if missing:
        o += ["## Not yet available in this Portico", ""] + [f"- {m}" for m in missing] + [""]
    o += ["## Figures: measured and assumed", ""]
    o += [
        f"- measured `{k}`: {m.value if m.value is not None else list(m.points)} ({m.source})"
        for k, m in sorted(d.measurements.figures.items())
    ]
    o += [f"- assumption `{k}`: {a.value:g} ({a.source})" for k, a in sorted(d.catalog.assumptions.items())]
    o += ["- Quality scores are vendor MMLU proxies, not your task: gate on targets.yaml with `portico eval`."]
    stated = stated_defaults(req, d.catalog)
    o += ["", "## Defaults applied", ""] + ([f"- `{k}`: {v}" for k, v in stated.items()] or ["none"]) + [""]
    return "\n".join(o)
