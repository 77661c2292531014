"""Vector stores as a feature: index backend, ingestion, retrieval, the /v1/vector_stores router."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from portico.feature import Access, Feature, Mount
from portico.files import FileService
from portico.model_settings import ModelSettings
from portico.rag.answer import PREFIX, RagAnswerStage
from portico.rag.catalog import VectorStoreCatalog
from portico.rag.index.base import VectorIndex
from portico.rag.ingest import Ingestor
from portico.rag.retrieve import Embed, Retriever
from portico.rag.routes import vector_stores_router
from portico.rag.service import VectorStoreService
from portico.rag.settings import RagSettings
from portico.responses.tools import ToolKinds

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from portico.config import Settings
    from portico.embeddings import MiniLMEmbedder


def build_index(settings: RagSettings) -> VectorIndex:
    if settings.backend == "pgvector":
        from portico.rag.index.pgvector import PgVectorIndex

        if not settings.pg_url:
            from portico.errors import ConfigError

            raise ConfigError("rag.backend pgvector needs rag.pg_url (a PostgreSQL with the vector extension).")
        return PgVectorIndex(
            settings.pg_url, schema=settings.pg_schema, postings_cache_mb=settings.pg_postings_cache_mb
        )
    from portico.rag.index.embedded import EmbeddedIndex

    return EmbeddedIndex(settings.dir)


def embed_with(embedder: Callable[[], Awaitable[MiniLMEmbedder]]) -> Embed:
    """An async batch embed function over the gateway's (lazily loaded) embedder."""

    async def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        model = await embedder()
        return await asyncio.to_thread(model.embed, list(texts))

    return embed


def context_windows(models: Sequence[ModelSettings]) -> Callable[[str], int]:
    """A model name -> its context window (declared, else the local model's n_ctx, else 8192)."""

    def window(name: str) -> int:
        for m in models:
            if m.name == name:
                return m.context_window or (m.n_ctx if m.provider == "local" else 8192)
        return 8192

    return window


def rag_feature(
    config: Settings,
    files: FileService | None,
    embedder: Callable[[], Awaitable[MiniLMEmbedder]],
    registry: CollectorRegistry | None = None,
) -> tuple[Feature, VectorStoreService] | None:
    """On when ``rag.enabled`` (default: when the files API is, whose files it indexes). Serves
    /v1/vector_stores, and grounded answers for ``rag/<store>`` models and the file_search tool."""
    settings = config.rag
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
        Retriever.configured(index, embed, settings),
        settings,
    )
    chat_models = [m.name for m in config.models]
    stage = RagAnswerStage(
        service,
        settings,
        answer_model=lambda: chat_models[0],
        context_window=context_windows(config.models),
        registry=registry,
    )
    feature = Feature(
        "rag",
        stages=(stage,),
        mounts=(Mount(vector_stores_router(service), Access.KEY),),
        on_start=(service.start,),
        on_stop=(service.stop,),
        model_prefixes=frozenset({PREFIX}),
    )
    return feature, service


def rag_tools(rag: tuple[Feature, VectorStoreService] | None) -> ToolKinds | None:
    """The Responses API's hosted tool types this feature serves (file_search), when it is on."""
    if rag is None:
        return None
    from portico.rag.answer import file_search_tool

    return ToolKinds({"file_search": file_search_tool})
