"""``portico keys create|list|show|revoke|rotate``, ``portico teams create|list`` and ``portico spend``.

They talk to the Store directly (``--config`` names the database), so they work without a
running gateway. A key created here is usable by running replicas at once; a revocation
reaches them within ``storage.key_cache_seconds``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from portico.auth.keys import KeyManager
from portico.errors import ConfigError, PorticoError
from portico.storage.records import KeyRecord, KeySpec, TeamSpec
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore

T = TypeVar("T")
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="portico.yaml (default: $PORTICO_CONFIG or ./portico.yaml)"),
]
err = Console(stderr=True)
out = Console()


def _check_period(period: str) -> None:
    if period not in ("day", "month", "total"):
        err.print("[red]error:[/red] --period must be day, month or total")
        raise typer.Exit(2)


def _storage(config: Path | None) -> StorageSettings:
    from portico.config import load_config

    try:
        settings = load_config(config)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    return getattr(settings, "storage", None) or StorageSettings()


def _run(config: Path | None, work: Callable[[SqlStore], Awaitable[T]]) -> T:
    async def main() -> T:
        store = SqlStore(_storage(config))
        try:
            await store.start()
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except PorticoError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None


def _money(v: float | None) -> str:
    return "-" if v is None else f"${v:,.4f}"


def _limits(r: Any) -> str:
    parts = [f"{name} {v}" for name, v in (("rpm", r.rpm), ("tpm", r.tpm), ("conc", r.max_concurrency)) if v]
    if r.budget_usd is not None:
        parts.append(f"{_money(r.budget_usd)}/{r.budget_period}")
    return ", ".join(parts) or "-"


def _state(k: KeyRecord) -> str:
    if k.revoked_at is not None:
        return "[red]revoked[/red]"
    if k.expires_at is not None and k.expires_at <= time.time():
        return "[yellow]expired[/yellow]"
    return "[green]active[/green]"


def _key_table(found: list[KeyRecord]) -> Table:
    table = Table("name", "hint", "team", "models", "limits", "state")
    table.add_column("id", no_wrap=True, min_width=20)
    table.columns.insert(0, table.columns.pop())
    for k in found:
        table.add_row(k.id, k.name, k.hint, k.team_id or "-", ",".join(k.allowed_models) or "*", _limits(k), _state(k))
    return table


def _show_secret(record: KeyRecord, secret: str) -> None:
    out.print(_key_table([record]))
    print(f"key id: {record.id}")
    err.print("[bold]Secret (shown once, store it now):[/bold]")
    print(secret)


def _models(value: str | None) -> list[str]:
    return [m.strip() for m in value.split(",") if m.strip()] if value else []


Period = Literal["day", "month", "total"]


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Virtual keys: create, list, show, revoke, rotate.", no_args_is_help=True)
    teams = typer.Typer(help="Teams: groups of keys with their own limits and budget.", no_args_is_help=True)
    app.add_typer(keys, name="keys")
    app.add_typer(teams, name="teams")

    @keys.command("create")
    def keys_create(
        name: Annotated[str, typer.Option(help="A label for people.")] = "",
        owner: Annotated[str | None, typer.Option()] = None,
        team: Annotated[str | None, typer.Option(help="Team id.")] = None,
        models: Annotated[str | None, typer.Option(help="Allowed models, comma-separated (globs ok).")] = None,
        rpm: Annotated[int | None, typer.Option(min=1)] = None,
        tpm: Annotated[int | None, typer.Option(min=1)] = None,
        concurrency: Annotated[int | None, typer.Option(min=1)] = None,
        budget: Annotated[float | None, typer.Option(min=0, help="USD per period.")] = None,
        period: Annotated[str, typer.Option(help="day | month | total")] = "month",
        expires_days: Annotated[float | None, typer.Option(min=0)] = None,
        config: ConfigOpt = None,
    ) -> None:
        """Create a key and print its secret once."""
        _check_period(period)
        spec = KeySpec(
            name=name,
            owner=owner,
            team_id=team,
            allowed_models=_models(models),
            rpm=rpm,
            tpm=tpm,
            max_concurrency=concurrency,
            budget_usd=budget,
            budget_period=period,  # type: ignore[arg-type]
            expires_at=time.time() + expires_days * 86400 if expires_days is not None else None,
        )
        record, secret = _run(config, lambda s: KeyManager(s).create(spec))
        _show_secret(record, secret)

    @keys.command("list")
    def keys_list(
        team: Annotated[str | None, typer.Option(help="Only this team's keys.")] = None,
        active: Annotated[bool, typer.Option("--active", help="Hide revoked keys.")] = False,
        config: ConfigOpt = None,
    ) -> None:
        """List keys (never their secrets)."""
        found = _run(config, lambda s: s.list_keys(team_id=team, include_revoked=not active))
        out.print(_key_table(found))

    @keys.command("show")
    def keys_show(key_id: str, config: ConfigOpt = None) -> None:
        """Show one key and its spend this month."""

        async def work(s: SqlStore) -> tuple[KeyRecord | None, float]:
            from portico.limits.limiter import period_window

            k = await s.get_key(key_id)
            return k, await s.spent("key", key_id, period_window(k.budget_period).start) if k else 0.0

        record, spent = _run(config, work)
        if record is None:
            err.print(f"[red]error:[/red] no key {key_id}")
            raise typer.Exit(1)
        out.print(_key_table([record]))
        out.print(f"spent this {record.budget_period}: {_money(spent)} of {_money(record.budget_usd)}")

    @keys.command("revoke")
    def keys_revoke(key_id: str, config: ConfigOpt = None) -> None:
        """Revoke a key (running replicas refuse it within storage.key_cache_seconds)."""
        record = _run(config, lambda s: KeyManager(s).revoke(key_id))
        if record is None:
            err.print(f"[red]error:[/red] no key {key_id}")
            raise typer.Exit(1)
        out.print(_key_table([record]))
        print(f"revoked: {record.id}")

    @keys.command("rotate")
    def keys_rotate(key_id: str, config: ConfigOpt = None) -> None:
        """Give a key a new secret (same id, limits and spend); the old secret stops working."""
        rotated = _run(config, lambda s: KeyManager(s).rotate(key_id))
        if rotated is None:
            err.print(f"[red]error:[/red] no active key {key_id}")
            raise typer.Exit(1)
        _show_secret(*rotated)

    @teams.command("create")
    def teams_create(
        name: str,
        models: Annotated[str | None, typer.Option(help="Allowed models, comma-separated.")] = None,
        rpm: Annotated[int | None, typer.Option(min=1)] = None,
        tpm: Annotated[int | None, typer.Option(min=1)] = None,
        concurrency: Annotated[int | None, typer.Option(min=1)] = None,
        budget: Annotated[float | None, typer.Option(min=0)] = None,
        period: Annotated[str, typer.Option(help="day | month | total")] = "month",
        config: ConfigOpt = None,
    ) -> None:
        """Create a team."""
        _check_period(period)
        spec = TeamSpec(
            name=name,
            allowed_models=_models(models),
            rpm=rpm,
            tpm=tpm,
            max_concurrency=concurrency,
            budget_usd=budget,
            budget_period=period,  # type: ignore[arg-type]
        )
        team = _run(config, lambda s: s.create_team(spec))
        table = Table("name", "models", "limits")
        table.add_row(team.name, ",".join(team.allowed_models) or "*", _limits(team))
        out.print(table)
        print(f"team id: {team.id}")

    @teams.command("list")
    def teams_list(config: ConfigOpt = None) -> None:
        """List teams."""
        found = _run(config, lambda s: s.list_teams())
        table = Table("name", "models", "limits")
        table.add_column("id", no_wrap=True, min_width=17)
        for t in found:
            table.add_row(t.name, ",".join(t.allowed_models) or "*", _limits(t), t.id)
        out.print(table)

    @app.command("spend")
    def spend(
        by: Annotated[str, typer.Option("--by", help="key | team | model | day")] = "key",
        days: Annotated[float | None, typer.Option(help="Only the last N days.")] = None,
        key: Annotated[str | None, typer.Option(help="Only this key id.")] = None,
        team: Annotated[str | None, typer.Option(help="Only this team id.")] = None,
        config: ConfigOpt = None,
    ) -> None:
        """Spend from the ledger, grouped by key, team, model or day."""
        if by not in ("key", "team", "model", "day"):
            err.print("[red]error:[/red] --by must be key, team, model or day")
            raise typer.Exit(2)
        since = time.time() - days * 86400 if days is not None else None
        rows = _run(config, lambda s: s.spend(by, since=since, key_id=key, team_id=team))  # type: ignore[arg-type]
        table = Table(by, "requests", "prompt tokens", "completion tokens", "cost USD")
        for r in rows:
            table.add_row(r.group, str(r.requests), str(r.prompt_tokens), str(r.completion_tokens), f"{r.cost_usd:.6f}")
        table.add_row(
            "[bold]total[/bold]",
            str(sum(r.requests for r in rows)),
            "",
            "",
            f"[bold]{sum(r.cost_usd for r in rows):.6f}[/bold]",
        )
        out.print(table)
