"""VectorStoreService: the vector stores API in-process (HTTP routes, the file_search tool and
the CLI call it).

Access: a store is visible to the key that created it and, when created with metadata
``portico_share: team``, to every key of that key's team; anything else is 404. Only the
owner changes a store. Files are ingested by one background worker per process (embedding
is CPU-bound; more workers would only contend), in the order they were added; a file left
``in_progress`` by a stopped process is resumed at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portico.errors import InvalidRequest, NotFound, PorticoError
from portico.files import FileService, Owner
from portico.rag.catalog import Order, VectorStoreCatalog
from portico.rag.chunk import ChunkingStrategy
from portico.rag.filters import compile_filter
from portico.rag.index.base import VectorIndex
from portico.rag.ingest import Ingestor
from portico.rag.records import FileBatch, VectorStore, VectorStoreFile
from portico.rag.retrieve import FileResult, Retriever
from portico.rag.settings import RagSettings, RetrievalMode

log = logging.getLogger(__name__)
SHARE_KEY = "portico_share"
MODES: tuple[RetrievalMode, ...] = ("bm25", "dense", "hybrid")


@dataclass(slots=True, frozen=True)
class SearchResult:
    file_id: str
    filename: str
    score: float
    attributes: dict[str, Any]
    chunks: tuple[str, ...]

    def public(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "filename": self.filename,
            "score": round(self.score, 6),
            "attributes": self.attributes,
            "content": [{"type": "text", "text": c} for c in self.chunks],
        }


@dataclass(slots=True, frozen=True)
class Passage:
    store_id: str
    file_id: str
    filename: str
    text: str
    score: float


def parse_chunking(spec: Any, settings: RagSettings) -> ChunkingStrategy:
    default = ChunkingStrategy(settings.chunking.max_chunk_size_tokens, settings.chunking.chunk_overlap_tokens)
    if spec is None:
        return default
    if not isinstance(spec, Mapping) or spec.get("type") not in ("auto", "static"):
        raise InvalidRequest("chunking_strategy.type must be 'auto' or 'static'.", param="chunking_strategy")
    if spec["type"] == "auto":
        return default
    static = spec.get("static")
    if not isinstance(static, Mapping):
        raise InvalidRequest("chunking_strategy.static is required for type 'static'.", param="chunking_strategy")
    try:
        return ChunkingStrategy(int(static["max_chunk_size_tokens"]), int(static["chunk_overlap_tokens"]))
    except (KeyError, TypeError, ValueError):
        raise InvalidRequest(
            "chunking_strategy.static needs integer max_chunk_size_tokens and chunk_overlap_tokens.",
            param="chunking_strategy.static",
        ) from None


class VectorStoreService:
    def __init__(
        self,
        catalog: VectorStoreCatalog,
        files: FileService,
        index: VectorIndex,
        ingestor: Ingestor,
        retriever: Retriever,
        settings: RagSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.files = files
        self.index = index
        self.ingestor = ingestor
        self.retriever = retriever
        self.settings = settings
        self.clock = clock
        self._queue: asyncio.Queue[tuple[str, str, str]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._idle: asyncio.Event | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        await self.index.start()
        for record, owner in await self.catalog.files_in_progress():
            self._enqueue(record.store_id, record.file_id, owner)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        await self.index.close()

    async def drain(self) -> None:
        """Wait until every queued ingestion has finished (tests, the CLI)."""
        if self._queue is not None:
            await self._queue.join()

    # ---- stores ----------------------------------------------------------------------------
    async def create(
        self,
        owner: Owner,
        *,
        name: str | None = None,
        file_ids: Sequence[str] = (),
        expires_after: Any = None,
        chunking_strategy: Any = None,
        metadata: Mapping[str, Any] | None = None,
        mode: RetrievalMode | None = None,
    ) -> VectorStore:
        meta = _metadata(metadata)
        strategy = parse_chunking(chunking_strategy, self.settings)
        now = self.clock()
        shared = meta.get(SHARE_KEY) == "team"
        if shared and owner.team_id is None:
            raise InvalidRequest(
                "Only a key that belongs to a team can share a vector store with it.", param="metadata"
            )
        if mode is not None and mode not in MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(MODES)}.", param="mode")
        store_id = "vs_" + uuid.uuid4().hex[:24]
        await self.catalog.insert_store(
            {
                "id": store_id,
                "owner": owner.id,
                "team_id": owner.team_id if shared else None,
                "name": (name or "")[:256],
                "mode": mode or self.settings.mode,
                "chunk_max": strategy.max_tokens,
                "chunk_overlap": strategy.overlap_tokens,
                "metadata": meta,
                "expires_days": _expires_days(expires_after),
                "created_at": now,
                "last_active_at": now,
            }
        )
        for file_id in file_ids:
            await self.add_file(owner, store_id, file_id)
        return await self.get(owner, store_id)

    async def get(self, owner: Owner, store_id: str, *, write: bool = False) -> VectorStore:
        store = await self.catalog.get_store(store_id) if store_id else None
        if store is None or not _visible(store, owner, write=write):
            raise NotFound(f"No vector store with id '{store_id}'.", code="vector_store_not_found")
        return store

    async def list_stores(
        self, owner: Owner, *, after: str | None = None, limit: int = 20, order: Order = "desc"
    ) -> tuple[list[VectorStore], bool]:
        _check_page(limit, order)
        cursor = None
        if after:
            s = await self.get(owner, after)
            cursor = (s.created_at, s.id)
        rows = await self.catalog.list_stores(owner.id, owner.team_id, after=cursor, limit=limit + 1, order=order)
        return rows[:limit], len(rows) > limit

    async def resolve(self, owner: Owner, ref: str) -> VectorStore:
        """A visible store by id, or one of the owner's stores by name (the rag/<name> alias)."""
        try:
            return await self.get(owner, ref)
        except NotFound:
            found = await self.find_by_name(owner, ref)
            if found is None:
                raise
            return found

    async def find_by_name(self, owner: Owner, name: str) -> VectorStore | None:
        return await self.catalog.find_store_by_name(owner.id, name)

    async def update(
        self, owner: Owner, store_id: str, *, name: str | None, expires_after: Any, metadata: Mapping[str, Any] | None
    ) -> VectorStore:
        store = await self.get(owner, store_id, write=True)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name[:256]
        if expires_after is not None:
            values["expires_days"] = _expires_days(expires_after)
        if metadata is not None:
            values["metadata"] = _metadata(metadata)
        if values:
            await self.catalog.update_store(store.id, values)
        return await self.get(owner, store_id)

    async def delete(self, owner: Owner, store_id: str) -> VectorStore:
        store = await self.get(owner, store_id, write=True)
        await self.catalog.delete_store(store.id)
        await self.index.delete_store(store.id)
        return store

    # ---- files -----------------------------------------------------------------------------
    async def add_file(
        self,
        owner: Owner,
        store_id: str,
        file_id: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        chunking_strategy: Any = None,
        batch_id: str | None = None,
    ) -> VectorStoreFile:
        store = await self.get(owner, store_id, write=True)
        attrs = _attributes(attributes)
        if chunking_strategy is None:
            strategy = ChunkingStrategy(store.chunk_max, store.chunk_overlap)
        else:
            strategy = parse_chunking(chunking_strategy, self.settings)
        file = await self.files.get(store.owner, file_id)
        previous = await self.catalog.get_file(store.id, file.id)
        unchanged = (
            previous is not None
            and previous.status == "completed"
            and previous.sha256 == file.sha256
            and (previous.chunk_max, previous.chunk_overlap) == (strategy.max_tokens, strategy.overlap_tokens)
        )
        row = {
            "store_id": store.id,
            "file_id": file.id,
            "batch_id": batch_id,
            "status": "completed" if unchanged else "in_progress",
            "last_error": None,
            "attributes": attrs,
            "sha256": file.sha256,
            "filename": file.filename,
            "usage_bytes": previous.usage_bytes if unchanged and previous else 0,
            "chunks": previous.chunks if unchanged and previous else 0,
            "chunk_max": strategy.max_tokens,
            "chunk_overlap": strategy.overlap_tokens,
            "created_at": self.clock(),
        }
        await self.catalog.upsert_file(row)
        if unchanged:  # same bytes, same chunking: the chunks stand; only attributes may change
            await self.index.set_attributes(store.id, file.id, attrs)
        else:
            self._enqueue(store.id, file.id, store.owner)
        return await self.get_file(owner, store.id, file.id)

    async def get_file(self, owner: Owner, store_id: str, file_id: str) -> VectorStoreFile:
        store = await self.get(owner, store_id)
        record = await self.catalog.get_file(store.id, file_id)
        if record is None:
            raise NotFound(f"No file '{file_id}' in vector store '{store_id}'.", code="file_not_found")
        return record

    async def list_files(
        self,
        owner: Owner,
        store_id: str,
        *,
        batch_id: str | None = None,
        status: str | None = None,
        after: str | None = None,
        limit: int = 20,
        order: Order = "desc",
    ) -> tuple[list[VectorStoreFile], bool]:
        _check_page(limit, order)
        store = await self.get(owner, store_id)
        cursor = None
        if after:
            f = await self.get_file(owner, store.id, after)
            cursor = (f.created_at, f.file_id)
        rows = await self.catalog.list_files(
            store.id, batch_id=batch_id, status=status, after=cursor, limit=limit + 1, order=order
        )
        return rows[:limit], len(rows) > limit

    async def update_file(
        self, owner: Owner, store_id: str, file_id: str, attributes: Mapping[str, Any] | None
    ) -> VectorStoreFile:
        store = await self.get(owner, store_id, write=True)
        record = await self.get_file(owner, store.id, file_id)
        attrs = _attributes(attributes)
        await self.catalog.update_file(store.id, record.file_id, {"attributes": attrs})
        await self.index.set_attributes(store.id, record.file_id, attrs)
        return await self.get_file(owner, store.id, file_id)

    async def remove_file(self, owner: Owner, store_id: str, file_id: str) -> VectorStoreFile:
        store = await self.get(owner, store_id, write=True)
        record = await self.get_file(owner, store.id, file_id)
        await self.catalog.delete_file(store.id, record.file_id)
        await self.index.delete_file(store.id, record.file_id)
        return record

    # ---- batches ---------------------------------------------------------------------------
    async def create_batch(
        self,
        owner: Owner,
        store_id: str,
        *,
        file_ids: Sequence[str] = (),
        files: Sequence[Mapping[str, Any]] = (),
        attributes: Mapping[str, Any] | None = None,
        chunking_strategy: Any = None,
    ) -> FileBatch:
        store = await self.get(owner, store_id, write=True)
        items: list[tuple[str, Any, Any]] = [(f, attributes, chunking_strategy) for f in file_ids]
        for spec in files:
            if not isinstance(spec, Mapping) or not isinstance(spec.get("file_id"), str):
                raise InvalidRequest("Each entry of 'files' needs a 'file_id'.", param="files")
            items.append(
                (spec["file_id"], spec.get("attributes", attributes), spec.get("chunking_strategy", chunking_strategy))
            )
        if not items or len(items) > 500:
            raise InvalidRequest("A file batch needs between 1 and 500 files.", param="file_ids")
        for file_id, _, _ in items:  # every file must exist before any is queued
            await self.files.get(store.owner, file_id)
        batch_id = "vsfb_" + uuid.uuid4().hex[:24]
        await self.catalog.insert_batch(
            {"id": batch_id, "store_id": store.id, "cancelled": 0, "created_at": self.clock()}
        )
        for file_id, attrs, chunking in items:
            await self.add_file(
                owner, store.id, file_id, attributes=attrs, chunking_strategy=chunking, batch_id=batch_id
            )
        return await self.get_batch(owner, store.id, batch_id)

    async def get_batch(self, owner: Owner, store_id: str, batch_id: str) -> FileBatch:
        store = await self.get(owner, store_id)
        batch = await self.catalog.get_batch(batch_id)
        if batch is None or batch.store_id != store.id:
            raise NotFound(f"No file batch '{batch_id}' in vector store '{store_id}'.", code="batch_not_found")
        return batch

    async def cancel_batch(self, owner: Owner, store_id: str, batch_id: str) -> FileBatch:
        await self.get(owner, store_id, write=True)
        batch = await self.get_batch(owner, store_id, batch_id)
        await self.catalog.cancel_batch(batch.id)
        return await self.get_batch(owner, store_id, batch_id)

    # ---- search ----------------------------------------------------------------------------
    async def search(
        self,
        owner: Owner,
        store_id: str,
        query: str | Sequence[str],
        *,
        max_num_results: int = 10,
        filters: Any = None,
        score_threshold: float | None = None,
        mode: RetrievalMode | None = None,
    ) -> list[SearchResult]:
        store = await self.get(owner, store_id)
        now = self.clock()
        if store.expired(now):
            raise InvalidRequest(f"Vector store '{store_id}' has expired.", code="vector_store_expired")
        text = query if isinstance(query, str) else " ".join(q for q in query if isinstance(q, str))
        if not text.strip():
            raise InvalidRequest("'query' must be a non-empty string.", param="query")
        if not 1 <= max_num_results <= self.settings.max_results:
            raise InvalidRequest(
                f"max_num_results must be between 1 and {self.settings.max_results}.", param="max_num_results"
            )
        where = compile_filter(filters) if filters is not None else None
        chosen: RetrievalMode = mode or store.mode  # type: ignore[assignment]
        found = await self.retriever.search_files(store.id, text, mode=chosen, k=max_num_results, where=where)
        if now - store.last_active_at > 60:  # activity keeps the store from expiring; coarse to spare writes
            await self.catalog.update_store(store.id, {"last_active_at": now})
        return await self._results(store.id, found, score_threshold)

    async def passages(
        self,
        owner: Owner,
        store_ids: Sequence[str],
        query: str,
        *,
        k: int,
        filters: Any = None,
    ) -> list[Passage]:
        """The best ``k`` chunks across ``store_ids`` (each visible to ``owner``, else 404), by
        score (scores are absolute, so stores compare), for grounded answers."""
        where = compile_filter(filters) if filters is not None else None
        now = self.clock()
        found: list[Passage] = []
        for store_id in dict.fromkeys(store_ids):
            store = await self.resolve(owner, store_id)
            if store.expired(now):
                raise InvalidRequest(f"Vector store '{store_id}' has expired.", code="vector_store_expired")
            hits = await self.retriever.search(store.id, query, mode=store.mode, k=k, where=where)  # type: ignore[arg-type]
            names: dict[str, str] = {}
            for hit in hits:
                if hit.file_id not in names:
                    record = await self.catalog.get_file(store.id, hit.file_id)
                    names[hit.file_id] = record.filename if record is not None and record.status == "completed" else ""
                if names[hit.file_id]:
                    found.append(Passage(store.id, hit.file_id, names[hit.file_id], hit.text, hit.score))
        found.sort(key=lambda p: -p.score)
        return found[:k]

    async def _results(self, store_id: str, found: Sequence[FileResult], threshold: float | None) -> list[SearchResult]:
        out = []
        for f in found:
            if threshold is not None and f.score < threshold:
                continue
            record = await self.catalog.get_file(store_id, f.file_id)
            if record is None or record.status != "completed":
                continue  # removed or being re-ingested since the index answered
            out.append(
                SearchResult(f.file_id, record.filename, f.score, record.attributes, tuple(h.text for h in f.hits))
            )
        return out

    # ---- ingestion worker ------------------------------------------------------------------
    def _enqueue(self, store_id: str, file_id: str, owner: str) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._queue.put_nowait((store_id, file_id, owner))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="portico-rag-ingest")

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            store_id, file_id, owner = await self._queue.get()
            try:
                await self._ingest(store_id, file_id, owner)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ingestion of %s into %s failed", file_id, store_id)
            finally:
                self._queue.task_done()
            if self._queue.empty():
                await self.index.flush()

    async def _ingest(self, store_id: str, file_id: str, owner: str) -> None:
        record = await self.catalog.get_file(store_id, file_id)
        if record is None or record.status != "in_progress":
            return  # removed or cancelled while queued
        try:
            data = await self.files.content(owner, file_id)
            chunks = await self.ingestor.chunks_of(
                record.filename, data, ChunkingStrategy(record.chunk_max, record.chunk_overlap)
            )
            n = await self.ingestor.ingest_text(store_id, file_id, chunks, record.attributes)
        except PorticoError as exc:
            code = "unsupported_file" if exc.code == "unsupported_file" else "invalid_file"
            await self._fail(store_id, file_id, code, exc.message)
            return
        except Exception as exc:
            log.exception("ingesting %s", file_id)
            await self._fail(store_id, file_id, "server_error", f"Ingestion failed: {type(exc).__name__}.")
            return
        usage = sum(len(c.encode()) for c in chunks)
        done = await self.catalog.update_file(
            store_id, file_id, {"status": "completed", "chunks": n, "usage_bytes": usage}, only_if="in_progress"
        )
        # removed meanwhile: its chunks must not stay searchable
        if not done and await self.catalog.get_file(store_id, file_id) is None:
            await self.index.delete_file(store_id, file_id)

    async def _fail(self, store_id: str, file_id: str, code: str, message: str) -> None:
        await self.index.delete_file(store_id, file_id)
        await self.catalog.update_file(
            store_id,
            file_id,
            {"status": "failed", "last_error": {"code": code, "message": message}},
            only_if="in_progress",
        )


def _visible(store: VectorStore, owner: Owner, *, write: bool) -> bool:
    if store.owner == owner.id:
        return True
    return not write and store.team_id is not None and store.team_id == owner.team_id


def _check_page(limit: int, order: str) -> None:
    if not 1 <= limit <= 100:
        raise InvalidRequest("limit must be between 1 and 100.", param="limit")
    if order not in ("asc", "desc"):
        raise InvalidRequest("order must be 'asc' or 'desc'.", param="order")


def _metadata(value: Mapping[str, Any] | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or len(value) > 16:
        raise InvalidRequest("metadata must be an object of at most 16 pairs.", param="metadata")
    for k, v in value.items():
        if not isinstance(k, str) or len(k) > 64 or not isinstance(v, str) or len(v) > 512:
            raise InvalidRequest("metadata keys are strings up to 64 characters, values up to 512.", param="metadata")
    return dict(value)


def _attributes(value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or len(value) > 16:
        raise InvalidRequest("attributes must be an object of at most 16 pairs.", param="attributes")
    for k, v in value.items():
        if not isinstance(k, str) or len(k) > 64 or not isinstance(v, str | int | float | bool):
            raise InvalidRequest(
                "attribute keys are strings up to 64 characters; values are strings, numbers or booleans.",
                param="attributes",
            )
        if isinstance(v, str) and len(v) > 512:
            raise InvalidRequest("attribute string values are at most 512 characters.", param="attributes")
    return dict(value)


def _expires_days(spec: Any) -> int | None:
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or spec.get("anchor") != "last_active_at":
        raise InvalidRequest("expires_after.anchor must be 'last_active_at'.", param="expires_after.anchor")
    days = spec.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise InvalidRequest("expires_after.days must be an integer from 1 to 365.", param="expires_after.days")
    return days
