"""Terminal tables (rich): one column group per requested metric, one row per model or route."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from portico.evals.metrics import Summary
from portico.evals.report_html import fmt
from portico.evals.targets import Verdict

#: ``--metrics`` names -> (column label, Summary field, format)
METRIC_GROUPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "accuracy": (("accuracy", "accuracy", "pct"), ("95% CI", "ci", "ci")),
    "latency": (("p50 ms", "p50_ms", "ms"), ("p95 ms", "p95_ms", "ms"), ("p99 ms", "p99_ms", "ms")),
    "ttft": (("TTFT p50 ms", "ttft_p50_ms", "ms"), ("TTFT p95 ms", "ttft_p95_ms", "ms")),
    "cost": (("cost/1K req $", "cost_per_1k", "usd"),),
    "errors": (("error rate", "error_rate", "pct"),),
    "cache": (("cache hit rate", "cache_hit_rate", "pct"),),
    "tokens": (("tokens/req", "tokens_per_request", "num"),),
}


def parse_metrics(text: str) -> list[str]:
    names = [m.strip().lower() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in METRIC_GROUPS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRIC_GROUPS)}")
    return names or ["accuracy", "latency", "cost"]


def summary_table(summaries: Sequence[Summary], metrics: Sequence[str], title: str) -> Table:
    table = Table(title=title)
    table.add_column("model / route")
    columns = [col for m in metrics for col in METRIC_GROUPS[m]]
    for label, _, _ in columns:
        table.add_column(label, justify="right")
    table.add_column("rows", justify="right")
    for s in summaries:
        cells = [f"{s.target} ({s.kind})" if s.kind != "model" else s.target]
        for _, key, kind in columns:
            if kind == "ci":
                cells.append(
                    f"{fmt(s.accuracy_ci_low, 'pct')}–{fmt(s.accuracy_ci_high, 'pct')}"
                    if s.accuracy_ci_low is not None
                    else "n/a"
                )
            else:
                cells.append(fmt(getattr(s, key), kind))
        cells.append(f"{s.rows}/{s.planned}")
        table.add_row(*cells)
    return table


def verdict_table(verdicts: Sequence[Verdict]) -> Table:
    table = Table(title="Targets")
    for col in ("model / route", "metric", "value", "target", "critical", "status"):
        table.add_column(col)
    style = {"pass": "green", "warn": "yellow", "fail": "bold red"}
    for v in verdicts:
        value = "not measured" if v.value is None else f"{v.value:.4g}"
        table.add_row(v.target, v.metric, value, v.condition, v.critical, f"[{style[v.status]}]{v.status}[/]")
    return table


def print_report(
    console: Console,
    summaries: Sequence[Summary],
    verdicts: Sequence[Verdict],
    metrics: Sequence[str],
    title: str,
) -> None:
    console.print(summary_table(summaries, metrics, title))
    if verdicts:
        console.print(verdict_table(verdicts))
