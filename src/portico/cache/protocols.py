"""The two storage seams behind the cache: exact payloads and scoped question vectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


class ExactStore(Protocol):
    """Bytes by key with a TTL and a size bound (LRU)."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SemanticEntry:
    """A cached question: its normalised text, vector and the exact key of its answer.
    ``group`` names its answer (equal answers, equal group; "" when not recorded)."""

    entry_key: str
    text: str
    vector: Vector
    expires_at: float
    group: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    entry_key: str
    text: str
    vector: Vector
    similarity: float
    group: str = ""


class VectorStore(Protocol):
    """Nearest cached questions within one scope (a scope never sees another's entries)."""

    async def add(self, scope: str, entry: SemanticEntry) -> None: ...

    async def search(self, scope: str, vector: Vector, k: int) -> list[Candidate]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ScopeListing(Protocol):
    """A vector store that can list a scope's entries: the answer-group tier fits on them."""

    async def entries(self, scope: str) -> list[SemanticEntry]: ...

    async def size(self, scope: str) -> int:
        """Entries in ``scope``, including those other replicas added."""
        ...


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> Vector: ...


class CacheUnavailable(Exception):
    """A backend could not be reached; the stage degrades to a miss instead of failing the request."""
