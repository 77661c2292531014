"""``portico guard scan FILE.jsonl [--guards pii,injection,content]``: run the gateway's
own guard code on lines ``{"text": ...}`` and print one JSON line per input."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer

from portico.guards.base import Guard
from portico.guards.factory import build_guard
from portico.guards.runtime import GuardRuntime
from portico.guards.settings import ContentGuardSpec, GuardSpec, InjectionGuardSpec, PiiGuardSpec
from portico.pipeline import RequestContext
from portico.types import ChatMessage, ChatRequest

KNOWN = ("pii", "injection", "content")


def register(app: typer.Typer) -> None:
    guard_app = typer.Typer(help="Safety guards: scan texts offline with the gateway's guards.")

    @guard_app.command("scan")
    def scan(
        file: Path = typer.Argument(..., help='JSONL file, one {"text": "..."} per line'),
        guards: str = typer.Option("pii,injection,content", help="comma-separated: pii, injection, content"),
    ) -> None:
        """Print, per input line, each guard's score, action and findings (type, start, end)."""
        names = [g.strip() for g in guards.split(",") if g.strip()]
        unknown = [g for g in names if g not in KNOWN]
        if unknown or not names:
            typer.echo(f"Unknown guard(s) {unknown}; choose from {', '.join(KNOWN)}.", err=True)
            raise typer.Exit(2)
        if not file.exists():
            typer.echo(f"No such file: {file}", err=True)
            raise typer.Exit(2)
        asyncio.run(_scan(file, names))

    app.add_typer(guard_app, name="guard")


def scan_specs(names: list[str]) -> list[GuardSpec]:
    """Every guard in ``flag`` mode so that all of them run and report on every text."""
    table: dict[str, GuardSpec] = {
        "pii": PiiGuardSpec(action="flag"),
        "injection": InjectionGuardSpec(action="flag"),
        "content": ContentGuardSpec(action="flag"),
    }
    return [table[n] for n in names]


async def _scan(file: Path, names: list[str]) -> None:
    runtime = GuardRuntime()
    guards: list[Guard] = [build_guard(spec, runtime) for spec in scan_specs(names)]
    with file.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                text = str(json.loads(line)["text"])
            except (ValueError, KeyError, TypeError):
                typer.echo(f"line {n}: expected a JSON object with a 'text' field", err=True)
                raise typer.Exit(2) from None
            sys.stdout.write(json.dumps(await scan_text(guards, text, n), ensure_ascii=False) + "\n")


async def scan_text(guards: list[Guard], text: str, line: int = 0) -> dict[str, object]:
    ctx = RequestContext(
        request_id=f"scan-{line}",
        request=ChatRequest(model="scan", messages=[ChatMessage(role="user", content=text)]),
    )
    out: dict[str, object] = {"line": line}
    for guard in guards:
        verdict = await guard.check(text, ctx)
        out[guard.name] = {
            "score": round(verdict.score, 4),
            "action": verdict.action.value,
            "findings": [
                {"type": f.type, "start": f.start, "end": f.end, "score": round(f.score, 4)} for f in verdict.findings
            ],
        }
    return out
