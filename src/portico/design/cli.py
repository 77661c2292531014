"""`portico design REQUIREMENTS.yaml` and `portico doctor`: the architect's two commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from portico.design.artifacts import write_artifacts
from portico.design.catalog import load_catalog
from portico.design.check import check_config
from portico.design.doctor.checks import Check, exit_code, run_checks
from portico.design.doctor.evalreport import EvalResult, load_eval_report
from portico.design.doctor.fetch import fetch_metrics_text
from portico.design.doctor.metrics import MetricsSnapshot, parse_metrics
from portico.design.doctor.targets import load_targets
from portico.design.measurements import load_measurements
from portico.design.plan import Design, design
from portico.design.render_config import render_config
from portico.design.requirements import load_requirements
from portico.errors import ConfigError, InvalidRequest

EXIT_USAGE = 2
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def register(app: typer.Typer) -> None:
    """Add the top-level ``design`` and ``doctor`` commands to the root app."""
    app.command("design")(design_command)
    app.command("doctor")(doctor_command)


def _usage(console: Console, message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(EXIT_USAGE)


def design_command(
    requirements: Annotated[Path, typer.Argument(help="Requirements YAML (every field optional).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write architecture.md, portico.yaml, targets.yaml, alerts.yml and design.json here.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decisions as one JSON object.")] = False,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Model catalog YAML (default: the shipped catalog.yaml).")
    ] = None,
    measurements: Annotated[
        Path | None,
        typer.Option(
            "--measurements", help="Your measured figures (e.g. from `portico eval` replay) over the shipped ones."
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Validate the emitted portico.yaml and start it in-process; exit 1 if it fails."),
    ] = False,
) -> None:
    """Turn requirements into an architecture, a cost model and a runnable config."""
    err = Console(stderr=True)
    try:
        d = design(load_requirements(requirements), load_catalog(catalog), load_measurements(measurements))
    except ConfigError as exc:
        raise _usage(err, exc.message) from None
    if as_json:
        print(json.dumps(d.to_json(), indent=2))
    elif not check:
        _print_design(d, Console())
    if out is not None:
        paths = write_artifacts(d, out)
        err.print("wrote " + ", ".join(str(p) for p in paths))
    if check:
        report = check_config(render_config(d))
        console = Console()
        console.print(f"[bold]Plan:[/] {escape(d.summary())}", soft_wrap=True, highlight=False)
        for line in report.lines:
            console.print(f"  {escape(line)}", soft_wrap=True, highlight=False)
        console.print("[green]check OK[/]" if report.ok else "[bold red]check FAILED[/]")
        if not report.ok:
            raise typer.Exit(1)


def _print_design(d: Design, console: Console) -> None:
    console.print(f"[bold]Plan:[/] {escape(d.summary())}", soft_wrap=True, highlight=False)
    console.print(f"[bold]Approach:[/] {d.approach.primary} ({', '.join(d.approach.components)})")
    for x in d.approach.decisions:
        console.print(f"  [dim]{x.rule}[/] {escape(x.reason)}", soft_wrap=True, highlight=False)
    plans = Table(title=f"Plan search ({len(d.result.estimates)} candidates)")
    for col in ("", "plan", "quality", "p95 ms", "USD/month", "breaks"):
        plans.add_column(col)
    rows = [("chosen", d.chosen), ("runner-up", d.result.runner_up)]
    rows += [(k.replace("_", " "), v) for k, v in d.result.pareto.items()]
    for name, e in rows:
        if e is not None:
            p95 = "batch" if e.p95_ms is None else f"{e.p95_ms:,.0f}"
            plans.add_row(name, e.plan.label, f"{e.quality:.3f}", p95, f"{e.total:,.0f}", ", ".join(e.broken) or "-")
    console.print(plans)
    for x in d.result.decisions:
        console.print(f"  [dim]{x.rule}[/] {escape(x.reason)}", soft_wrap=True, highlight=False)
    cost = Table(title="Monthly cost (USD), step by step")
    for col in ("step", "rule", "total", "change", "source"):
        cost.add_column(col, overflow="fold")
    for s in d.steps:
        cost.add_row(s.name, s.rule, f"{s.total:,.0f}", f"{s.change_pct_of_baseline:+.1f}%", s.source)
    console.print(cost)
    console.print(
        f"[bold]Capacity:[/] {d.gateway.replicas} gateway replica(s), "
        f"redis={'yes' if d.gateway.redis else 'no'}, postgres={'yes' if d.gateway.postgres else 'no'}"
    )
    console.print(f"[bold]Controls:[/] {', '.join(c.id for c in d.controls)}")


def doctor_command(
    url: Annotated[str | None, typer.Option("--url", help="Gateway base URL; reads GET {url}/metrics.")] = None,
    eval_report: Annotated[Path | None, typer.Option("--eval", help="Eval report JSON.")] = None,
    targets: Annotated[
        Path | None, typer.Option("--targets", help="targets.yaml (default: the seed's targets).")
    ] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="Bearer key if /metrics needs one.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
) -> None:
    """Check a running gateway and/or an eval report against targets and the red-flag table."""
    err = Console(stderr=True)
    if url is None and eval_report is None:
        raise _usage(err, "give --url (a running gateway) and/or --eval (an eval report JSON)")
    try:
        goals = load_targets(targets)
        evals: list[EvalResult] = load_eval_report(eval_report) if eval_report is not None else []
        snapshot: MetricsSnapshot | None = None
        if url is not None:
            snapshot = parse_metrics(fetch_metrics_text(url, api_key=api_key))
    except InvalidRequest as exc:
        raise _usage(err, exc.message) from None
    checks = run_checks(snapshot, evals, goals)
    if as_json:
        print(
            json.dumps(
                {"checks": [c.to_dict() for c in checks], "exit_code": exit_code(checks, strict=strict)},
                indent=2,
            )
        )
    else:
        _print_checks(checks, Console())
    raise typer.Exit(exit_code(checks, strict=strict))


def _print_checks(checks: list[Check], console: Console) -> None:
    table = Table(title="portico doctor")
    for col in ("status", "item", "source", "evidence", "action", "rule"):
        table.add_column(col, overflow="fold")
    for c in checks:
        style = STATUS_STYLE[c.status]
        table.add_row(f"[{style}]{c.status}[/]", c.item, c.source, c.evidence, c.action, c.rule)
    console.print(table)
    counts = {s: sum(1 for c in checks if c.status == s) for s in ("pass", "warn", "fail", "skip")}
    console.print(" ".join(f"{k}={v}" for k, v in counts.items()))
