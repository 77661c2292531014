"""The file record and its OpenAI wire shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Purpose = Literal[
    "assistants",
    "assistants_output",
    "batch",
    "batch_output",
    "fine-tune",
    "fine-tune-results",
    "vision",
    "user_data",
    "evals",
]
PURPOSES: frozenset[str] = frozenset(get_args(Purpose))
# What a client may upload; the *_output / results purposes are written by Portico itself.
UPLOAD_PURPOSES: frozenset[str] = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})
ANONYMOUS = "anonymous"  # the one owner when authentication is off


@dataclass(slots=True, frozen=True)
class FileObject:
    id: str
    owner: str
    purpose: str
    filename: str
    bytes: int
    sha256: str
    created_at: float
    expires_at: float | None = None
    status: str = "processed"

    def public(self) -> dict[str, Any]:
        """OpenAI's ``File`` object (the owner and hash stay inside)."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": int(self.created_at),
            "expires_at": int(self.expires_at) if self.expires_at is not None else None,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
            "status_details": None,
        }


@dataclass(slots=True, frozen=True)
class FilePage:
    data: list[FileObject]
    has_more: bool

    def public(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [f.public() for f in self.data],
            "first_id": self.data[0].id if self.data else None,
            "last_id": self.data[-1].id if self.data else None,
            "has_more": self.has_more,
        }
