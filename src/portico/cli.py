"""The ``portico`` command: serve, chat, models, and the feature commands."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from portico import __version__
from portico.config import Settings, load_config
from portico.errors import ConfigError, PorticoError

app = typer.Typer(
    name="portico",
    help="Portico: an OpenAI-compatible LLM gateway.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="portico.yaml (default: $PORTICO_CONFIG or ./portico.yaml)")
]


def _version(value: bool) -> None:
    if value:
        print(f"portico {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Portico: an OpenAI-compatible LLM gateway with an embedded local model."""


def load_settings(config: Path | None) -> Settings:
    """Load config or exit 2 with the validation message."""
    try:
        return load_config(config)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address (overrides server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (overrides server.port).")] = None,
) -> None:
    """Start the gateway."""
    import uvicorn

    from portico.observability.logging import configure_logging
    from portico.server import create_app

    settings = load_settings(config)
    if host is not None:
        settings.server.host = host
    if port is not None:
        settings.server.port = port
    configure_logging(settings.server.log_level, settings.secrets(), settings.server.log_format)
    log = logging.getLogger("portico")
    if settings.auth.master_key is None:
        log.warning("No auth.master_key configured: open dev mode, any API key is accepted.")
    for field in settings.unset_env:
        log.warning("Config field %s is empty: its environment variable is not set.", field)
    try:
        application = create_app(settings)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    models = ", ".join(application.gateway.model_ids())
    log.info(
        "Portico %s on http://%s:%d (config: %s; models: %s)",
        __version__,
        settings.server.host,
        settings.server.port,
        settings.source,
        models,
    )
    uvicorn.run(
        application,
        host=settings.server.host,
        port=settings.server.port,
        loop="auto",
        http="auto",
        lifespan="on",
        access_log=settings.server.access_log,
        log_config=None,
        log_level=settings.server.log_level,
        timeout_graceful_shutdown=5,
    )


@app.command()
def models(config: ConfigOpt = None) -> None:
    """List the model names this config serves."""
    settings = load_settings(config)
    from rich.table import Table

    table = Table("model", "provider", "upstream", "price in/out per MTok")
    for m in settings.models:
        table.add_row(
            m.name,
            m.provider,
            m.base_url or "(in-process)",
            f"{m.price.input_per_mtok:g} / {m.price.output_per_mtok:g}",
        )
    if settings.embeddings.enabled:
        table.add_row(settings.embeddings.model_name, "local", "(in-process)", "0 / 0")
    Console().print(table)


@app.command()
def chat(
    prompt: Annotated[str, typer.Argument(help="What to ask.")],
    model: Annotated[str, typer.Option("--model", "-m")] = "local",
    stream: Annotated[bool, typer.Option("--stream/--no-stream")] = False,
    max_tokens: Annotated[int, typer.Option("--max-tokens")] = 256,
    system: Annotated[str | None, typer.Option("--system")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Ask a running gateway instead of an in-process one.")
    ] = None,
    api_key: Annotated[str, typer.Option("--api-key", envvar="PORTICO_API_KEY")] = "anything",
    config: ConfigOpt = None,
) -> None:
    """Ask one question, through a running gateway (--url) or an in-process one."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "stream": stream}
    try:
        asyncio.run(_chat(body, url, api_key, config))
    except PorticoError as exc:
        console.print(f"[red]error ({exc.status}):[/red] {exc.message}")
        raise typer.Exit(1) from None


async def _chat(body: dict[str, Any], url: str | None, api_key: str, config: Path | None) -> None:
    import httpx

    from portico.server import create_app

    if url is None:
        logging.basicConfig(level=logging.WARNING)
        application = create_app(load_settings(config))
        await application.gateway.start()
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=application)
        base = "http://portico"
    else:
        application, transport, base = None, httpx.AsyncHTTPTransport(), url.rstrip("/")
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base, timeout=300) as client:
            await _ask(client, body, api_key)
    finally:
        if application is not None:
            await application.gateway.stop()


async def _ask(client: Any, body: dict[str, Any], api_key: str) -> None:
    import orjson

    headers = {"Authorization": f"Bearer {api_key}"}
    path = "/v1/chat/completions"
    if not body["stream"]:
        resp = await client.post(path, json=body, headers=headers)
        data = resp.json()
        if resp.status_code != 200:
            _raise(resp.status_code, data)
        print(data["choices"][0]["message"].get("content") or "")
        console.print(
            f"[dim]{resp.headers.get('x-portico-route')}  tokens {data['usage']['prompt_tokens']}+"
            f"{data['usage']['completion_tokens']}  cost ${float(resp.headers.get('x-portico-cost-usd', 0)):.6f}[/dim]"
        )
        return
    async with client.stream("POST", path, json=body, headers=headers) as resp:
        if resp.status_code != 200:
            _raise(resp.status_code, orjson.loads(await resp.aread()))
        async for line in resp.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = orjson.loads(line[6:])
            if "error" in chunk:
                print()
                _raise(502, chunk)
            for choice in chunk.get("choices", []):
                sys.stdout.write(choice.get("delta", {}).get("content") or "")
                sys.stdout.flush()
    print()


def _raise(status: int, data: Any) -> None:
    message = (data.get("error") or {}).get("message", str(data)) if isinstance(data, dict) else str(data)
    raise PorticoError(message, status=status)


def _register_features() -> None:
    """Feature packages add their commands here (each exposes ``register(app)``)."""
    from portico.auth.cli import register as register_controls
    from portico.cache.cli import register as register_cache
    from portico.compress.cli import register as register_compress
    from portico.design.cli import register as register_design
    from portico.evals.cli import eval_app
    from portico.evals.cli import register as register_evals
    from portico.guards.cli import register as register_guards
    from portico.rag.cli import register as register_rag
    from portico.resilience.cli import register as register_resilience
    from portico.routing.cli import register as register_routing
    from portico.routing.cli import register_eval as register_router_eval

    register_controls(app)
    register_cache(app)
    register_compress(app)
    register_design(app)
    register_evals(app)
    register_guards(app)
    register_rag(app)
    register_router_eval(eval_app)
    register_routing(app)
    register_resilience(app)


_register_features()


def main() -> None:
    app()
