"""Vector stores as a feature: index backend, ingestion, retrieval, the /v1/vector_stores router."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from portico.feature import Access, Feature, Mount
from portico.files import FileService
from portico.rag.catalog import VectorStoreCatalog
from portico.rag.index.base import VectorIndex
from portico.rag.ingest import Ingestor
from portico.rag.retrieve import Embed, Retriever
from portico.rag.routes import vector_stores_router
from portico.rag.service import VectorStoreService
from portico.rag.settings import RagSettings

if TYPE_CHECKING:
    from portico.embeddings import MiniLMEmbedder


def build_index(settings: RagSettings) -> VectorIndex:
    if settings.backend == "pgvector":
        from portico.rag.index.pgvector import PgVectorIndex

        if not settings.pg_url:
            from portico.errors import ConfigError

            raise ConfigError("rag.backend pgvector needs rag.pg_url (a PostgreSQL with the vector extension).")
        return PgVectorIndex(settings.pg_url, schema=settings.pg_schema)
    from portico.rag.index.embedded import EmbeddedIndex

    return EmbeddedIndex(settings.dir)


def embed_with(embedder: Callable[[], Awaitable[MiniLMEmbedder]]) -> Embed:
    """An async batch embed function over the gateway's (lazily loaded) embedder."""

    async def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        model = await embedder()
        return await asyncio.to_thread(model.embed, list(texts))

    return embed


def rag_feature(
    settings: RagSettings, files: FileService | None, embedder: Callable[[], Awaitable[MiniLMEmbedder]]
) -> tuple[Feature, VectorStoreService] | None:
    """On when ``rag.enabled`` (default: when the files API is, whose files it indexes)."""
    enabled = settings.enabled if settings.enabled is not None else files is not None
    if not enabled:
        return None
    if files is None:
        from portico.errors import ConfigError

        raise ConfigError("rag.enabled needs the files API (files.enabled, or storage.enabled).")
    index = build_index(settings)
    embed = embed_with(embedder)
    service = VectorStoreService(
        VectorStoreCatalog(files.catalog.engine),
        files,
        index,
        Ingestor(index, embed),
        Retriever(index, embed, candidates=settings.candidates),
        settings,
    )
    feature = Feature(
        "rag",
        mounts=(Mount(vector_stores_router(service), Access.KEY),),
        on_start=(service.start,),
        on_stop=(service.stop,),
    )
    return feature, service
