"""Settings of the rag section (``rag:`` in portico.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RetrievalMode = Literal["bm25", "dense", "hybrid"]
Fusion = Literal["convex", "rrf"]


class ChunkingDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # MiniLM reads at most 256 word pieces; 200-token chunks with 40 overlap keep every chunk
    # whole inside the embedder (measured in docs/rag.md).
    max_chunk_size_tokens: int = Field(default=200, ge=32, le=4096)
    chunk_overlap_tokens: int = Field(default=40, ge=0)


class RagSettings(BaseModel):
    """Vector stores, retrieval and grounded answers."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(default=None, description="unset: on when the files API is")
    backend: Literal["embedded", "pgvector"] = "embedded"
    dir: str = Field(default="portico-rag", description="embedded backend: SQLite chunks, usearch and bm25s files")
    pg_url: str | None = Field(default=None, description="pgvector backend: a PostgreSQL URL with pgvector")
    pg_schema: str | None = None
    pg_postings_cache_mb: float = Field(
        default=256.0, ge=0, description="pgvector backend: BM25 postings cached per replica (0: read every query)"
    )
    mode: RetrievalMode = Field(default="hybrid", description="default retrieval for new vector stores")
    chunking: ChunkingDefaults = Field(default_factory=ChunkingDefaults)
    candidates: int = Field(default=100, ge=10, le=1000, description="hits per retriever before fusion")
    # Chosen on SciFact's train split (never its test split): docs/rag.md.
    fusion: Fusion = Field(default="convex", description="hybrid: convex combination of scores, or RRF")
    dense_weight: float = Field(default=0.5, ge=0, le=1, description="convex fusion: weight of the cosine")
    max_results: int = Field(default=50, ge=1, le=50)
    # grounded answers (the rag/<store> alias and the file_search tool)
    answer_model: str | None = Field(default=None, description="model that writes answers (default: the first)")
    answer_k: int = Field(default=8, ge=1, le=50, description="passages retrieved per answer")
    answer_reserve_tokens: int = Field(default=512, ge=16, description="room kept for the answer")
    # Calibrated on the calibration half of the SQuAD 2.0 subset (bench/rag_quality.py, docs/rag.md).
    abstain_threshold: float = Field(default=0.17, ge=0, le=1, description="abstain below this best score")
    grounded_threshold: float = Field(default=0.76, ge=0, le=1, description="sentence support needed")
    abstain_text: str = "I don't know: the provided documents do not answer this."
