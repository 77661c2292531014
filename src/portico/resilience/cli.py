"""``portico circuits``: the circuit-breaker table of a running gateway."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer


def register(app: typer.Typer) -> None:
    app.command("circuits")(circuits)


def circuits(
    url: Annotated[str, typer.Option(help="Base URL of a running gateway.")] = "http://127.0.0.1:8000",
    key: Annotated[
        str | None, typer.Option(envvar="PORTICO_MASTER_KEY", help="Master key (when auth.master_key is set).")
    ] = None,
    reset: Annotated[str | None, typer.Option(help="Close this deployment's circuit (e.g. 'gpt#0').")] = None,
) -> None:
    """Show each deployment's circuit state, failure rate, load and latency."""
    import httpx
    from rich.console import Console
    from rich.table import Table

    console = Console()
    headers = {"authorization": f"Bearer {key}"} if key else {}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            if reset is not None:
                r = client.post(f"/admin/circuits/{quote(reset, safe='')}/reset")
                _fail_on_error(console, r)
            r = client.get("/admin/circuits")
            _fail_on_error(console, r)
            data: dict[str, Any] = r.json()
    except httpx.HTTPError as exc:
        console.print(f"[red]error:[/red] cannot reach {url}: {exc}")
        raise typer.Exit(1) from None
    colours = {"closed": "green", "half_open": "yellow", "open": "red", "disabled": "dim"}
    table = Table(title=f"Circuits at {url}")
    for col in ("deployment", "state", "failures/requests", "failure rate", "in flight", "latency ms", "usable"):
        table.add_column(col)
    for d in data.get("deployments", []):
        state = str(d.get("state"))
        if "retry_in_seconds" in d:
            state += f" ({d['retry_in_seconds']:.1f}s)"
        table.add_row(
            str(d["deployment"]),
            f"[{colours.get(str(d.get('state')), 'white')}]{state}[/]",
            f"{d.get('failures', '-')}/{d.get('requests', '-')}",
            f"{float(d.get('failure_rate', 0.0)):.1%}",
            str(d.get("in_flight", 0)),
            f"{float(d.get('latency_ms', 0.0)):.1f}",
            "yes" if d.get("usable") else "no",
        )
    console.print(table)


def _fail_on_error(console: Any, r: Any) -> None:
    if r.status_code >= 400:
        message = r.json().get("error", {}).get("message", r.text) if r.content else r.reason_phrase
        console.print(f"[red]error:[/red] {r.status_code}: {message}")
        raise typer.Exit(2 if r.status_code in (401, 403, 404) else 1)
