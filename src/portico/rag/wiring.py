"""Plug vector stores into a Gateway: index backend, ingestion, retrieval, routes, start/stop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from portico.files import FileService, OwnerResolver
from portico.rag.catalog import VectorStoreCatalog
from portico.rag.index.base import VectorIndex
from portico.rag.ingest import Ingestor
from portico.rag.retrieve import Embed, Retriever
from portico.rag.routes import vector_stores_router
from portico.rag.service import VectorStoreService
from portico.rag.settings import RagSettings

if TYPE_CHECKING:
    from portico.auth.controls import Controls
    from portico.gateway import Gateway


def build_index(settings: RagSettings) -> VectorIndex:
    if settings.backend == "pgvector":
        from portico.rag.index.pgvector import PgVectorIndex

        if not settings.pg_url:
            from portico.errors import ConfigError

            raise ConfigError("rag.backend pgvector needs rag.pg_url (a PostgreSQL with the vector extension).")
        return PgVectorIndex(settings.pg_url, schema=settings.pg_schema)
    from portico.rag.index.embedded import EmbeddedIndex

    return EmbeddedIndex(settings.dir)


def gateway_embed(gateway: Gateway) -> Embed:
    async def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        embedder = await gateway.embedder()
        return await asyncio.to_thread(embedder.embed, list(texts))

    return embed


def install_rag(gateway: Gateway, controls: Controls | None, files: FileService | None) -> VectorStoreService | None:
    """On when ``rag.enabled`` (default: when the files API is, whose files it indexes)."""
    settings = gateway.settings.rag
    enabled = settings.enabled if settings.enabled is not None else files is not None
    if not enabled or files is None:
        return None
    index = build_index(settings)
    embed = gateway_embed(gateway)
    retriever = Retriever(index, embed, candidates=settings.candidates)
    service = VectorStoreService(
        VectorStoreCatalog(files.catalog.engine), files, index, Ingestor(index, embed), retriever, settings
    )
    owner_of = OwnerResolver(controls.auth, controls.resolver) if controls is not None else OwnerResolver()
    gateway.on_start.append(service.start)
    gateway.on_stop.append(service.stop)
    gateway.vector_stores = service
    gateway.extra_routers.append(vector_stores_router(service, owner_of))
    return service
