"""``portico eval run``: evaluate models and routes through the gateway, report, gate CI."""

from __future__ import annotations

import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from portico.config import Settings
from portico.errors import ConfigError
from portico.evals.client import RequestOptions
from portico.evals.inprocess import StartupFailed, inprocess_client
from portico.evals.pricing import Price, PriceTable
from portico.evals.records import Target
from portico.evals.report_terminal import parse_metrics
from portico.evals.session import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EvalOptions,
    HttpFactory,
    UsageError,
    remote_client,
    run_evaluation,
)
from portico.evals.targets import TargetsError, load_targets

eval_app = typer.Typer(
    help="Evaluate models and routes: accuracy, latency, cost; gate deployments.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


def _usage(console: Console, message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(EXIT_USAGE)


@eval_app.command("run")
def run(
    dataset: Annotated[
        Path, typer.Option("--dataset", "-d", help="JSONL or CSV file, or sample:NAME (arithmetic, capitals, ...).")
    ],
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Model name (repeat for side-by-side).")
    ] = None,
    route: Annotated[
        list[str] | None, typer.Option("--route", "-r", help="Route (virtual model) name; repeatable.")
    ] = None,
    metrics: Annotated[str, typer.Option(help="Columns: accuracy,latency,cost,ttft,errors,cache,tokens.")] = (
        "accuracy,latency,cost"
    ),
    scorer: Annotated[str, typer.Option(help="Scorer for rows without 'assert', or module:function.")] = "contains",
    judge_model: Annotated[str | None, typer.Option(help="Model for llm_judge checks.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256)] = 4,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N rows.")] = None,
    targets: Annotated[Path | None, typer.Option(help='YAML: metric -> condition, e.g. accuracy: ">= 0.9".')] = None,
    out: Annotated[Path, typer.Option(help="Directory for the JSON and HTML reports.")] = Path("eval-reports"),
    base_url: Annotated[str | None, typer.Option(help="A running gateway (else in-process).")] = None,
    config: Annotated[Path | None, typer.Option(help="Gateway config for in-process runs.")] = None,
    stream: Annotated[bool, typer.Option(help="Stream replies (measures time to first token).")] = False,
    max_tokens: Annotated[int | None, typer.Option(min=1)] = None,
    temperature: Annotated[float, typer.Option(min=0.0, max=2.0)] = 0.0,
    timeout: Annotated[float, typer.Option(min=0.1, help="Per-request timeout, seconds.")] = 120.0,
    api_key: Annotated[
        str | None,
        typer.Option(envvar="PORTICO_API_KEY", show_default=False, help="Bearer key (env PORTICO_API_KEY)."),
    ] = None,
) -> None:
    """Run a dataset against one or more models/routes and write terminal, JSON and HTML reports.

    Exit codes: 0 ok, 1 a target missed its critical level, 2 usage error, 130 interrupted.
    """
    # Logs (CI) are not terminals: rich would wrap the table at 80 columns there.
    console = Console(width=None if sys.stdout.isatty() else 160)
    try:
        metric_names = parse_metrics(metrics)
        specs = load_targets(targets) if targets is not None else []
    except (ValueError, TargetsError) as exc:
        raise _usage(console, str(exc)) from None
    chosen = [Target(m, "model") for m in model or []] + [Target(r, "route") for r in route or []]
    if not chosen:
        raise _usage(console, "give at least one --model NAME or --route NAME")
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    prices = PriceTable()
    info: dict[str, Any] = {}
    if base_url:
        http: HttpFactory = remote_client(base_url, headers)
        info["base_url"] = base_url
        if config is not None:  # prices for replies without a cost header (streams)
            try:
                prices = _prices(_settings(config))
            except UsageError as exc:
                raise _usage(console, str(exc)) from None
    else:
        try:
            http, prices, info = _in_process(config, headers, [t.name for t in chosen])
        except UsageError as exc:
            raise _usage(console, str(exc)) from None
    options = EvalOptions(
        dataset=dataset,
        targets=tuple(chosen),
        metrics=tuple(metric_names),
        scorer=scorer,
        judge_model=judge_model,
        concurrency=concurrency,
        limit=limit,
        out_dir=out,
        target_specs=tuple(specs),
        request=RequestOptions(temperature=temperature, max_tokens=max_tokens, stream=stream, timeout_s=timeout),
        mode="http" if base_url else "in-process",
    )
    try:
        result = run_evaluation(options, http, console=console, prices=prices, settings_info=info)
    except UsageError as exc:
        raise _usage(console, str(exc)) from None
    except (StartupFailed, httpx.HTTPError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except KeyboardInterrupt:  # before any row finished (start-up): nothing to report
        console.print("interrupted before the run started; no report written")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    raise typer.Exit(result.exit_code)


def _in_process(
    config: Path | None, headers: dict[str, str], names: list[str]
) -> tuple[HttpFactory, PriceTable, dict[str, Any]]:
    """The gateway built from ``--config`` (or the default config), reached without a socket."""
    from portico.server import create_app

    settings = _settings(config)
    try:
        app = create_app(settings)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    unknown = [n for n in names if not app.gateway.knows_model(n)]
    if unknown:
        known = ", ".join(app.gateway.model_ids())
        raise UsageError(f"unknown model/route {', '.join(unknown)} in {settings.source}; configured: {known}")
    prices = _prices(settings)

    def factory() -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return inprocess_client(app, headers)

    return factory, prices, {"config": settings.source}


def _settings(config: Path | None) -> Settings:
    from portico.config import load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def _prices(settings: Settings) -> PriceTable:
    """Both the configured name and the upstream model id, since replies carry either."""
    table: dict[str, Price] = {}
    for m in settings.models:
        price = Price(m.price.input_per_mtok, m.price.output_per_mtok)
        table[m.name] = price
        table.setdefault(m.model or m.name, price)
    return PriceTable(table)


def main() -> None:  # pragma: no cover - convenience for `python -m portico.evals.cli`
    eval_app(sys.argv[1:])
