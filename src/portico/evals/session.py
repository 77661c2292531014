"""One ``portico eval run``: load, check, run with a live progress bar, report, gate.

Kept apart from the typer layer so tests drive it with an injected HTTP client factory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from portico.evals.client import ChatClient, RequestOptions
from portico.evals.dataset import Dataset, EvalCase, RowProblem, load_dataset
from portico.evals.metrics import percentile
from portico.evals.pricing import PriceTable
from portico.evals.records import RowResult, RunState, Target
from portico.evals.report import ReportFiles, build_report, gate_status, summaries_of, write_reports
from portico.evals.report_html import render_html
from portico.evals.report_terminal import print_report
from portico.evals.runner import EvalRunner
from portico.evals.scoring import ScorerImportError, ScorerSet, UnknownScorer
from portico.evals.scoring.semantic import TextEmbedder, default_embedder
from portico.evals.targets import TargetSpec, judge

#: Opens the HTTP client that reaches the gateway (in-process app, remote URL, or a test double).
HttpFactory = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]

EXIT_OK, EXIT_CRITICAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(ValueError):
    """Bad input the user must fix; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class EvalOptions:
    dataset: Path
    targets: tuple[Target, ...]
    metrics: tuple[str, ...] = ("accuracy", "latency", "cost")
    scorer: str = "contains"
    judge_model: str | None = None
    concurrency: int = 4
    limit: int | None = None
    out_dir: Path = Path("eval-reports")
    target_specs: tuple[TargetSpec, ...] = ()
    request: RequestOptions = field(default_factory=RequestOptions)
    mode: str = "in-process"


@dataclass(frozen=True)
class EvalResult:
    exit_code: int
    files: ReportFiles
    report: dict[str, Any]


def prepare(dataset: Dataset, scorers: ScorerSet) -> tuple[list[EvalCase], list[RowProblem]]:
    """Drop rows whose checks cannot run (unknown scorer, unimportable callable), naming the line."""
    good: list[EvalCase] = []
    problems = list(dataset.problems)
    for case in dataset.cases:
        try:
            scorers.validate(case)
        except (UnknownScorer, ScorerImportError) as exc:
            problems.append(RowProblem(case.line, str(exc)))
            continue
        good.append(case)
    problems.sort(key=lambda p: p.line)
    return good, problems


class LiveProgress:
    """A progress bar per target showing live accuracy and p95 latency."""

    def __init__(self, progress: Progress, targets: Sequence[Target], total: int) -> None:
        self._progress = progress
        self._tasks = {t.name: progress.add_task(t.name, total=total, stats="") for t in targets}
        self._correct: dict[str, int] = {t.name: 0 for t in targets}
        self._latency: dict[str, list[float]] = {t.name: [] for t in targets}
        self._done: dict[str, int] = {t.name: 0 for t in targets}

    def __call__(self, row: RowResult) -> None:
        name = row.target
        self._done[name] += 1
        self._correct[name] += int(row.passed)
        if not row.error:
            self._latency[name].append(row.latency_ms)
        p95 = percentile(self._latency[name], 95)
        stats = f"acc {100 * self._correct[name] / self._done[name]:5.1f}%"
        stats += f"  p95 {p95:,.0f} ms" if p95 is not None else "  p95 n/a"
        self._progress.update(self._tasks[name], advance=1, stats=stats)


def run_evaluation(
    options: EvalOptions,
    http: HttpFactory,
    *,
    console: Console,
    prices: PriceTable | None = None,
    make_embedder: Callable[[], TextEmbedder] = default_embedder,
    settings_info: dict[str, Any] | None = None,
) -> EvalResult:
    """Run, then always write the reports (also after Ctrl-C: a partial report)."""
    try:
        dataset = load_dataset(options.dataset, limit=options.limit)
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        raise UsageError(str(exc)) from exc
    if not options.targets:
        raise UsageError("give at least one --model or --route")
    # The judge calls the gateway through the run's client, which exists only inside the loop.
    holder: dict[str, ChatClient] = {}

    async def complete(messages: Sequence[Any], model: str) -> str:
        return await holder["client"].complete(messages, model)

    scorers = ScorerSet(complete=complete, judge_model=options.judge_model, make_embedder=make_embedder)
    try:
        default = scorers.default_assertion(options.scorer)
    except (UnknownScorer, ScorerImportError) as exc:
        raise UsageError(str(exc)) from exc
    cases, problems = prepare(dataset, scorers)
    for p in problems:
        console.print(f"[yellow]skipped[/] {options.dataset.name} {p}")
    if not cases:
        raise UsageError(f"{options.dataset}: no row can be evaluated ({len(problems)} malformed)")
    state = RunState(dataset=dataset.name, targets=options.targets, planned_per_target=len(cases))
    state.problems = [str(p) for p in problems]

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )

    async def main() -> None:
        async with http() as client_http:
            client = ChatClient(client_http, options=options.request)
            holder["client"] = client
            runner = EvalRunner(
                client, scorers, default_assertion=default, prices=prices, concurrency=options.concurrency
            )
            await runner.run(cases, state, on_result=LiveProgress(progress, options.targets, len(cases)))

    try:
        with progress:
            asyncio.run(main())
    except KeyboardInterrupt:
        state.interrupted = True
    state.finished_at = time.time()
    return finish(options, state, console, settings_info or {})


def finish(options: EvalOptions, state: RunState, console: Console, info: dict[str, Any]) -> EvalResult:
    summaries = summaries_of(state)
    verdicts = judge(options.target_specs, summaries)
    settings = {
        "mode": options.mode,
        "scorer": options.scorer,
        "judge_model": options.judge_model,
        "metrics": list(options.metrics),
        "concurrency": options.concurrency,
        "limit": options.limit,
        "stream": options.request.stream,
        "temperature": options.request.temperature,
        "max_tokens": options.request.max_tokens,
        "targets": [{"name": t.name, "kind": t.kind} for t in options.targets],
        **info,
    }
    report = build_report(state, summaries, verdicts, settings)
    files = write_reports(report, options.out_dir, render_html(report))
    title = f"{state.dataset}: {state.done} rows" + (" (INTERRUPTED, partial)" if state.interrupted else "")
    print_report(console, summaries, verdicts, options.metrics, title)
    console.print(f"reports: {files.json}  {files.html}")
    if state.interrupted:
        code = EXIT_INTERRUPTED
    elif gate_status(verdicts) == "fail":
        code = EXIT_CRITICAL
    else:
        code = EXIT_OK
    return EvalResult(exit_code=code, files=files, report=report)


def remote_client(base_url: str, headers: dict[str, str]) -> HttpFactory:
    """A client for a running gateway; the pool is sized well above any sane ``--concurrency``."""

    @asynccontextmanager
    async def factory() -> AsyncIterator[httpx.AsyncClient]:
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, limits=limits) as client:
            yield client

    return factory
