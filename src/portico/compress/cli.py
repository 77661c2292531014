"""``portico compress FILE --question "..." --ratio 0.5``: what the gateway would send, offline.

Runs the gateway's Compressor on the file's text (the same splitting, scoring and
selection); the compressed text goes to stdout, the figures to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import typer
from rich.console import Console

from portico.compress.compressor import Compressor
from portico.compress.settings import CompressionSettings

console = Console(stderr=True)


class _LazyMiniLM:
    """Loads the embedder on first use: most questions never need it."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._embed: object = None

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        from portico.embeddings import MiniLMEmbedder

        if self._embed is None:
            self._embed = MiniLMEmbedder(threads=self.threads)
        assert isinstance(self._embed, MiniLMEmbedder)
        return self._embed.embed(list(texts))


def register(app: typer.Typer) -> None:
    app.command(name="compress")(compress)


def compress(
    file: Annotated[Path, typer.Argument(help="A text file ('-' for stdin).")],
    question: Annotated[str, typer.Option("--question", "-q", help="What the compressed text must still answer.")],
    ratio: Annotated[float | None, typer.Option(help="Share of tokens to keep (default: config or 0.5).")] = None,
    budget: Annotated[int | None, typer.Option(help="At most this many tokens.")] = None,
    embed: Annotated[bool, typer.Option(help="Consult MiniLM when the question's words are rare.")] = True,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="portico.yaml for defaults.")] = None,
) -> None:
    """Compress FILE against a question exactly as the gateway's compression stage does."""
    settings = CompressionSettings()
    if config is not None:
        from portico.cli import load_settings

        settings = load_settings(config).compression
    if ratio is not None and not 0 < ratio <= 1:
        console.print("[red]error:[/red] --ratio must be in (0, 1], e.g. 0.5 to keep half the tokens.")
        raise typer.Exit(2)
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]error:[/red] cannot read {file}: {exc}")
        raise typer.Exit(2) from None
    compressor = Compressor(_LazyMiniLM(1) if embed and settings.embed else None)
    result = compressor.compress(
        text,
        question,
        ratio=ratio if ratio is not None else settings.ratio,
        budget_tokens=budget if budget is not None else settings.budget_tokens,
    )
    sys.stdout.write(result.text)
    if not result.text.endswith("\n"):
        sys.stdout.write("\n")
    console.print(
        f"ratio={result.ratio:.2f}; saved_tokens={result.saved_tokens} "
        f"({result.original_tokens} -> {result.kept_tokens} tokens, {result.units_kept}/{result.units} units"
        f"{', embedding consulted' if result.embedded else ''})"
    )
