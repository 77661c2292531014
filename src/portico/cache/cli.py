"""``portico cache judge PAIRS.jsonl``: would the gateway serve the cached answer for this query?"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from portico.cache.settings import CacheSettings
from portico.errors import ConfigError

EXIT_USAGE = 2
cache_app = typer.Typer(help="Response cache tools.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")


def load_cache_settings(path: Path | None) -> CacheSettings:
    """The ``cache:`` section of a portico.yaml (defaults without a file)."""
    if path is None:
        return CacheSettings()
    from portico.config import load_config

    return load_config(path).cache


def read_pairs(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc})") from exc
        if not isinstance(row, dict) or not isinstance(row.get("cached"), str) or not isinstance(row.get("query"), str):
            raise ValueError(f'{path}:{number}: need {{"cached": "...", "query": "..."}}')
        rows.append(row)
    return rows


@cache_app.command("judge")
def judge(
    pairs: Annotated[Path, typer.Argument(help='JSONL: {"cached": .., "query": .., optional history_*/system_*}')],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="portico.yaml with a cache: section")] = None,
) -> None:
    """Print one JSON line per pair: hit, similarity, veto (the gateway's own decision path)."""
    err = Console(stderr=True)
    try:
        rows = read_pairs(pairs)
        settings = load_cache_settings(config)
    except (OSError, ValueError, ConfigError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    from portico.cache.offline import judge_pairs
    from portico.embeddings import MiniLMEmbedder

    verdicts = asyncio.run(judge_pairs(rows, settings, MiniLMEmbedder()))
    for verdict in verdicts:
        typer.echo(orjson.dumps(verdict).decode())
