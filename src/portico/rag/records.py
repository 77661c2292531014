"""Vector store, vector store file and file batch records, with their OpenAI wire shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DAY_S = 86_400.0
STATUSES = ("in_progress", "completed", "failed", "cancelled")


@dataclass(slots=True, frozen=True)
class FileCounts:
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    @classmethod
    def of(cls, counts: dict[str, int]) -> FileCounts:
        return cls(**{s: int(counts.get(s, 0)) for s in STATUSES})

    @property
    def total(self) -> int:
        return self.in_progress + self.completed + self.failed + self.cancelled

    def public(self) -> dict[str, int]:
        return {
            "in_progress": self.in_progress,
            "completed": self.completed,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "total": self.total,
        }


@dataclass(slots=True, frozen=True)
class VectorStore:
    id: str
    owner: str
    team_id: str | None
    name: str
    mode: str
    chunk_max: int
    chunk_overlap: int
    metadata: dict[str, Any]
    expires_days: int | None
    created_at: float
    last_active_at: float
    counts: FileCounts = field(default_factory=FileCounts)
    usage_bytes: int = 0

    @property
    def expires_at(self) -> float | None:
        return self.last_active_at + self.expires_days * DAY_S if self.expires_days is not None else None

    def expired(self, now: float) -> bool:
        at = self.expires_at
        return at is not None and at <= now

    def public(self, now: float) -> dict[str, Any]:
        status = "expired" if self.expired(now) else "in_progress" if self.counts.in_progress else "completed"
        return {
            "id": self.id,
            "object": "vector_store",
            "created_at": int(self.created_at),
            "name": self.name,
            "usage_bytes": self.usage_bytes,
            "file_counts": self.counts.public(),
            "status": status,
            "expires_after": (
                {"anchor": "last_active_at", "days": self.expires_days} if self.expires_days is not None else None
            ),
            "expires_at": int(self.expires_at) if self.expires_at is not None else None,
            "last_active_at": int(self.last_active_at),
            "metadata": self.metadata,
        }


@dataclass(slots=True, frozen=True)
class VectorStoreFile:
    store_id: str
    file_id: str
    batch_id: str | None
    status: str
    last_error: dict[str, str] | None
    attributes: dict[str, Any]
    sha256: str | None
    filename: str
    usage_bytes: int
    chunks: int
    chunk_max: int
    chunk_overlap: int
    created_at: float

    def public(self) -> dict[str, Any]:
        return {
            "id": self.file_id,
            "object": "vector_store.file",
            "usage_bytes": self.usage_bytes,
            "created_at": int(self.created_at),
            "vector_store_id": self.store_id,
            "status": self.status,
            "last_error": self.last_error,
            "attributes": self.attributes,
            "chunking_strategy": {
                "type": "static",
                "static": {"max_chunk_size_tokens": self.chunk_max, "chunk_overlap_tokens": self.chunk_overlap},
            },
        }


@dataclass(slots=True, frozen=True)
class FileBatch:
    id: str
    store_id: str
    cancelled: bool
    created_at: float
    counts: FileCounts = field(default_factory=FileCounts)

    def public(self) -> dict[str, Any]:
        if self.counts.in_progress:
            status = "cancelling" if self.cancelled else "in_progress"
        elif self.cancelled:
            status = "cancelled"
        else:
            status = "failed" if self.counts.failed and not self.counts.completed else "completed"
        return {
            "id": self.id,
            "object": "vector_store.file_batch",
            "created_at": int(self.created_at),
            "vector_store_id": self.store_id,
            "status": status,
            "file_counts": self.counts.public(),
        }
