"""``portico cache judge PAIRS.jsonl``: would the gateway serve the cached answer for this query?
``portico cache warm FAQ.jsonl|.csv``: load questions and answers into a running gateway's cache."""

from __future__ import annotations

import asyncio
import csv
import io
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


def read_faq(path: Path) -> list[dict[str, str]]:
    """Rows of question, answer and optional group: JSONL, or CSV with a header line."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))  # a quoted answer may span lines
        numbered = [(reader.line_num, dict(row)) for row in reader]
    else:
        numbered = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                numbered.append((number, orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc})") from exc
    rows: list[dict[str, str]] = []
    for number, row in numbered:
        if not isinstance(row, dict) or not row.get("question") or not row.get("answer"):
            raise ValueError(f'{path}:{number}: need a question and an answer ({{"question": .., "answer": ..}})')
        group = row.get("group")
        if group is not None and not isinstance(group, str):
            raise ValueError(f"{path}:{number}: group must be a string")
        rows.append({k: str(v) for k, v in row.items() if k in ("question", "answer", "group") and v})
    return rows


def warm_body(template: dict[str, Any], question: str) -> dict[str, Any]:
    """The request the application sends for ``question``: the template's messages, then the question."""
    body = {**template, "messages": [*template.get("messages", []), {"role": "user", "content": question}]}
    body.setdefault("temperature", 0)
    return body


@cache_app.command("warm")
def warm(
    faq: Annotated[Path, typer.Argument(help="JSONL or CSV: question, answer, optional group")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="The model the application asks")] = None,
    system: Annotated[str | None, typer.Option("--system", help="The application's system prompt")] = None,
    template: Annotated[
        Path | None,
        typer.Option(help="JSON request body as the application sends it, without the question (exact scopes)"),
    ] = None,
    key_id: Annotated[str | None, typer.Option(help="Warm this key's cache (cache.partition: key)")] = None,
    team_id: Annotated[str | None, typer.Option(help="Warm this team's cache (cache.partition: team)")] = None,
    url: Annotated[str, typer.Option(help="Base URL of a running gateway.")] = "http://127.0.0.1:8000",
    key: Annotated[
        str | None, typer.Option(envvar="PORTICO_MASTER_KEY", help="Master key (when auth.master_key is set).")
    ] = None,
) -> None:
    """Store each answer for its question in a running gateway's cache, then fit the group models."""
    import httpx

    err = Console(stderr=True)
    try:
        rows = read_faq(faq)
        body: dict[str, Any] = orjson.loads(template.read_bytes()) if template else {}
    except (OSError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    if model:
        body["model"] = model
    if system:
        body["messages"] = [{"role": "system", "content": system}, *body.get("messages", [])]
    if not isinstance(body.get("model"), str):
        err.print("[bold red]error:[/] name the model the application asks: --model, or model in --template")
        raise typer.Exit(EXIT_USAGE)
    headers = {"authorization": f"Bearer {key}"} if key else {}
    stored = semantic = 0
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
            for row in rows:
                request = warm_body(body, row["question"])
                entry = {"request": request, "answer": row["answer"], "group": row.get("group")}
                r = client.post("/admin/cache/entries", json={**entry, "key_id": key_id, "team_id": team_id})
                _fail_on_error(err, r, row["question"])
                stored += 1
                semantic += bool(r.json().get("semantic"))
            r = client.post("/admin/cache/refit")
            _fail_on_error(err, r, None)
    except httpx.HTTPError as exc:
        err.print(f"[bold red]error:[/] cannot reach {url}: {exc} ({stored} entries stored)")
        raise typer.Exit(1) from None
    typer.echo(orjson.dumps({"stored": stored, "semantic": semantic, "models": r.json()["models"]}).decode())


def _fail_on_error(err: Console, r: Any, question: str | None) -> None:
    if r.status_code < 400:
        return
    message = r.json().get("error", {}).get("message", r.text) if r.content else r.reason_phrase
    where = f" (question {question!r})" if question else ""
    err.print(f"[bold red]error:[/] {r.status_code}: {message}{where}")
    raise typer.Exit(EXIT_USAGE if r.status_code in (401, 403, 404) else 1)
