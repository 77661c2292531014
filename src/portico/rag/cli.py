"""``portico rag ingest | search | eval``: vector stores from the terminal, through the gateway's code."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress

from portico.errors import PorticoError
from portico.files import ANONYMOUS, Owner
from portico.rag.settings import RetrievalMode

rag_app = typer.Typer(help="Vector stores: ingest files, search, evaluate retrieval.", no_args_is_help=True)
console = Console(stderr=True)
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="portico.yaml (storage, files, rag sections)")]
OwnerOpt = Annotated[str, typer.Option("--owner", help="key id that owns the store (default: the anonymous owner)")]


def register(app: typer.Typer) -> None:
    app.add_typer(rag_app, name="rag")


def _settings(config: Path | None) -> Any:
    from portico.cli import load_settings

    return load_settings(config)


def _files_under(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            out.append(p)
        else:
            raise typer.BadParameter(f"{p} does not exist")
    return out


@rag_app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or directories (recursed)")],
    store: Annotated[str, typer.Option("--store", help="vector store name (created if missing) or id")],
    config: ConfigOpt = None,
    owner: OwnerOpt = ANONYMOUS,
) -> None:
    """Add files to a store; a file whose bytes changed replaces its old chunks, an unchanged one is skipped."""
    settings = _settings(config)
    files = _files_under(paths)
    try:
        summary = asyncio.run(_ingest(settings, files, store, Owner(owner)))
    except PorticoError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    print(json.dumps(summary, indent=2))
    if summary["failed"]:
        raise typer.Exit(1)


async def _ingest(settings: Any, paths: list[Path], store_name: str, owner: Owner) -> dict[str, Any]:
    from portico.rag.local import local_service

    async with local_service(settings) as service:
        store = await service.find_by_name(owner, store_name)
        if store is None and store_name.startswith("vs_"):
            store = await service.get(owner, store_name)
        if store is None:
            store = await service.create(owner, name=store_name)
        known: dict[str, Any] = {}
        after = None
        while True:
            page, more = await service.list_files(owner, store.id, after=after, limit=100)
            for row in page:
                known[str(row.attributes.get("path", ""))] = row
            if not more or not page:
                break
            after = page[-1].file_id
        added, updated, unchanged, replaced = 0, 0, 0, []
        queued: list[tuple[Path, str]] = []
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("reading", total=len(paths))
            for path in paths:
                data = path.read_bytes()
                key = str(path.resolve())
                old = known.get(key)
                if old is not None and old.sha256 == hashlib.sha256(data).hexdigest() and old.status == "completed":
                    unchanged += 1
                else:
                    upload = await service.files.create(owner.id, "assistants", path.name, data)
                    await service.add_file(owner, store.id, upload.id, attributes={"path": key})
                    queued.append((path, upload.id))
                    if old is not None:
                        replaced.append(old.file_id)
                        updated += 1
                    else:
                        added += 1
                bar.advance(task)
            task = bar.add_task("indexing", total=len(queued))
            failures = []
            for path, file_id in queued:
                while True:
                    record = await service.get_file(owner, store.id, file_id)
                    if record.status != "in_progress":
                        break
                    await asyncio.sleep(0.05)  # the worker runs in this loop; yield to it
                if record.status == "failed":
                    failures.append({"path": str(path), "error": record.last_error})
                bar.advance(task)
        for file_id in replaced:
            await service.remove_file(owner, store.id, file_id)
            await service.files.delete(owner.id, file_id)
        await service.drain()
        final = await service.get(owner, store.id)
        return {
            "store": store.id,
            "name": store.name,
            "added": added,
            "updated": updated,
            "unchanged": unchanged,
            "failed": failures,
            "file_counts": final.counts.public(),
        }


@rag_app.command()
def search(
    store: Annotated[str, typer.Argument(help="vector store name or id")],
    query: Annotated[str, typer.Argument()],
    config: ConfigOpt = None,
    owner: OwnerOpt = ANONYMOUS,
    k: Annotated[int, typer.Option("--k", min=1, max=50)] = 5,
    mode: Annotated[str | None, typer.Option("--mode", help="bm25 | dense | hybrid (default: the store's)")] = None,
) -> None:
    """Search a store and print the hits as JSON."""
    settings = _settings(config)
    try:
        results = asyncio.run(_search(settings, store, query, Owner(owner), k, mode))
    except PorticoError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    print(json.dumps(results, indent=2))


async def _search(
    settings: Any, store_name: str, query: str, owner: Owner, k: int, mode: str | None
) -> list[dict[str, Any]]:
    from portico.rag.local import local_service

    async with local_service(settings) as service:
        found = await service.find_by_name(owner, store_name)
        store_id = found.id if found is not None else store_name
        results = await service.search(owner, store_id, query, max_num_results=k, mode=mode)  # type: ignore[arg-type]
        return [r.public() for r in results]


@rag_app.command("eval")
def evaluate(
    corpus: Annotated[Path, typer.Option("--corpus", exists=True, dir_okay=False, help="BEIR corpus.jsonl")],
    queries: Annotated[Path, typer.Option("--queries", exists=True, dir_okay=False, help="BEIR queries.jsonl")],
    qrels: Annotated[Path, typer.Option("--qrels", exists=True, dir_okay=False, help="BEIR qrels .tsv")],
    mode: Annotated[str, typer.Option("--mode", help="bm25 | dense | hybrid")] = "hybrid",
    config: ConfigOpt = None,
    max_chunk_tokens: Annotated[int | None, typer.Option(help="chunk size (default: rag.chunking)")] = None,
    overlap_tokens: Annotated[int | None, typer.Option(help="chunk overlap (default: rag.chunking)")] = None,
) -> None:
    """Index a BEIR corpus in a scratch store and print nDCG@10, recall@10, recall@100, MRR@10 as JSON."""
    if mode not in ("bm25", "dense", "hybrid"):
        raise typer.BadParameter("--mode must be bm25, dense or hybrid")
    from portico.config import Settings

    settings: Settings = _settings(config) if config is not None else Settings()
    chunking = settings.rag.chunking
    from portico.rag.chunk import ChunkingStrategy

    strategy = ChunkingStrategy(
        max_chunk_tokens or chunking.max_chunk_size_tokens,
        overlap_tokens if overlap_tokens is not None else chunking.chunk_overlap_tokens,
    )
    metrics = asyncio.run(_evaluate(corpus, queries, qrels, mode, strategy, settings))  # type: ignore[arg-type]
    print(json.dumps(metrics, indent=2))


async def _evaluate(
    corpus: Path, queries: Path, qrels: Path, mode: RetrievalMode, strategy: Any, settings: Any
) -> dict[str, Any]:
    from portico.rag.evaluate import index_corpus, read_corpus, read_qrels, read_queries, run_queries, score_run
    from portico.rag.index.embedded import EmbeddedIndex
    from portico.rag.ingest import Ingestor
    from portico.rag.local import local_embed
    from portico.rag.retrieve import Retriever

    docs, qs, judged = read_corpus(corpus), read_queries(queries), read_qrels(qrels)
    embed = local_embed(settings.embeddings.threads)
    with tempfile.TemporaryDirectory(prefix="portico-rag-eval-") as scratch:
        index = EmbeddedIndex(scratch)
        await index.start()
        try:
            chunks = await index_corpus(Ingestor(index, embed), "eval", docs, strategy)
            run = await run_queries(Retriever.configured(index, embed, settings.rag), "eval", qs, mode=mode)
        finally:
            await index.close()
    metrics: dict[str, Any] = {k: round(v, 4) for k, v in score_run(run, judged).items()}
    metrics.update({"mode": mode, "documents": len(docs), "chunks": chunks})
    return metrics
