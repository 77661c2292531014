"""Ingestion: file bytes -> text -> chunks -> lexical tokens + vectors -> the VectorIndex."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from portico.rag.chunk import ChunkingStrategy, TokenCounter, chunk_text, wordpiece_counter
from portico.rag.index.base import ChunkIn, VectorIndex
from portico.rag.parse import extract_text
from portico.rag.retrieve import Embed
from portico.rag.text import lexical_tokens_many


class Ingestor:
    def __init__(self, index: VectorIndex, embed: Embed, *, count: TokenCounter = wordpiece_counter) -> None:
        self.index = index
        self.embed = embed
        self.count = count

    async def chunks_of(self, filename: str, data: bytes, strategy: ChunkingStrategy) -> list[str]:
        def run() -> list[str]:
            return chunk_text(extract_text(filename, data), strategy, self.count)

        return await asyncio.to_thread(run)

    async def ingest_text(
        self,
        store_id: str,
        file_id: str,
        chunks: Sequence[str],
        attributes: Mapping[str, Any],
        vectors: npt.NDArray[np.float32] | None = None,
    ) -> int:
        """Index ``chunks`` as the whole content of ``file_id`` (replacing what it had); ``vectors``
        when the caller embedded them already (one row per chunk)."""
        tokens = await asyncio.to_thread(lexical_tokens_many, chunks)
        if vectors is None:
            vectors = await self.embed(list(chunks)) if chunks else np.zeros((0, 1), np.float32)
        records = [
            ChunkIn(text=c, tokens=t, vector=vectors[i], position=i)
            for i, (c, t) in enumerate(zip(chunks, tokens, strict=True))
        ]
        await self.index.replace_file(store_id, file_id, records, attributes)
        return len(records)

    async def ingest(
        self,
        store_id: str,
        file_id: str,
        filename: str,
        data: bytes,
        strategy: ChunkingStrategy,
        attributes: Mapping[str, Any],
    ) -> int:
        chunks = await self.chunks_of(filename, data, strategy)
        return await self.ingest_text(store_id, file_id, chunks, attributes)
