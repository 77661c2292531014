"""``portico guard scan FILE.jsonl [--guards pii,injection,content]``: run the gateway's
own guard code on lines ``{"text": ...}`` and print one JSON line per input.
``portico guard fit BENIGN.jsonl [--max-share 0.01]``: the injection block cut calibrated
on the operator's own benign traffic (``guards.fitting``)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import typer

from portico.guards.base import Guard
from portico.guards.factory import build_guard
from portico.guards.fitting import fit_block_cut
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

    @guard_app.command("fit")
    def fit(
        file: Path = typer.Argument(..., help='JSONL file of benign prompts, one {"text": "..."} per line'),
        max_share: float = typer.Option(0.01, help="largest share of these texts the block cut may block"),
    ) -> None:
        """Print the injection block cut that blocks at most MAX_SHARE of your benign texts
        (never below the shipped cut) and the config line that sets it."""
        if not file.exists():
            typer.echo(f"No such file: {file}", err=True)
            raise typer.Exit(2)
        texts = [text for _, text in _texts(file)]
        if not texts:
            typer.echo(f'No texts in {file}: expected lines like {{"text": "..."}}', err=True)
            raise typer.Exit(2)
        if not 0.0 <= max_share < 1.0:
            typer.echo("--max-share must be at least 0 and below 1 (0.01 = 1%).", err=True)
            raise typer.Exit(2)
        result = fit_block_cut(GuardRuntime(), texts, max_share)
        typer.echo(json.dumps(asdict(result)))
        typer.echo(
            f"{result.n} texts: shipped flag cut {result.shipped_flag:.3f} flags {result.flagged_at_shipped_flag:.2%}, "
            f"shipped block cut {result.shipped_block:.3f} blocks {result.blocked_at_shipped_block:.2%}; "
            f"cut {result.cut:.3f} blocks {result.blocked_at_cut:.2%} ({result.rule_matches} rule matches)."
        )
        if result.recall_at_cut is not None and result.recall_at_shipped_block is not None:
            typer.echo(
                f"In-distribution recall (s-labs validation, out-of-fold): {result.recall_at_shipped_block:.3f} "
                f"at the shipped block cut, at least {result.recall_at_cut:.3f} at {result.cut:.3f}."
            )
        typer.echo(f"Config: - {{type: injection, action: block, threshold: {result.cut:.3f}}}")

    app.add_typer(guard_app, name="guard")


def _texts(file: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line ``{"text": ...}``, read as they come; a line
    of another shape ends the command with exit code 2, naming the line."""
    with file.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                text = str(json.loads(line)["text"])
            except (ValueError, KeyError, TypeError):
                typer.echo(f"line {n}: expected a JSON object with a 'text' field", err=True)
                raise typer.Exit(2) from None
            yield n, text


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
    for n, text in _texts(file):
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
