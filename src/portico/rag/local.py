"""The vector stores service outside a running gateway (the CLI): same database, same index,
same ingestion and retrieval code, with the embedder loaded in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import numpy as np
import numpy.typing as npt

from portico.config import Settings
from portico.embeddings import MiniLMEmbedder
from portico.files import FileCatalog, FileService, LocalBlobStore
from portico.rag.catalog import VectorStoreCatalog
from portico.rag.ingest import Ingestor
from portico.rag.retrieve import Embed, Retriever
from portico.rag.service import VectorStoreService
from portico.rag.wiring import build_index


def local_embed(threads: int = 1) -> Embed:
    embedder: list[MiniLMEmbedder] = []

    async def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not embedder:
            embedder.append(await asyncio.to_thread(lambda: MiniLMEmbedder(threads=threads)))
        return await asyncio.to_thread(embedder[0].embed, list(texts))

    return embed


@asynccontextmanager
async def local_service(settings: Settings, embed: Embed | None = None) -> AsyncIterator[VectorStoreService]:
    from portico.storage.migrate import migrate
    from portico.storage.sql import create_engine

    engine = create_engine(settings.storage)
    await migrate(engine, schema=settings.storage.schema_name)
    files = FileService(FileCatalog(engine), LocalBlobStore(settings.files.dir), max_bytes=settings.files.max_bytes)
    index = build_index(settings.rag)
    embed = embed or local_embed(settings.embeddings.threads)
    service = VectorStoreService(
        VectorStoreCatalog(engine),
        files,
        index,
        Ingestor(index, embed),
        Retriever.configured(index, embed, settings.rag),
        settings.rag,
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        await engine.dispose()
