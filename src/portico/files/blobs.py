"""The BlobStore seam: uploaded bytes by id. A local directory by default.

Metadata (owner, purpose, name) lives in the database; a blob store only keeps bytes, so a
scale-out backend (S3, a shared volume) is one small class behind the same three calls.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path
from typing import Protocol

_BLOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class BlobStore(Protocol):
    async def put(self, blob_id: str, data: bytes) -> None:
        """Store ``data`` under ``blob_id`` (replacing it); visible only once complete."""

    async def open(self, blob_id: str) -> bytes:
        """The bytes of ``blob_id``; FileNotFoundError if there are none."""

    async def delete(self, blob_id: str) -> None:
        """Forget ``blob_id``; deleting a missing blob is not an error."""


class LocalBlobStore:
    """One file per blob in ``root``, written to a temporary name then renamed (atomic)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, blob_id: str) -> Path:
        if not _BLOB_ID.match(blob_id):  # ids become file names: no separators, no dots
            raise ValueError(f"invalid blob id {blob_id!r}")
        return self.root / blob_id

    def _put(self, blob_id: str, data: bytes) -> None:
        final = self._path(blob_id)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{blob_id}.{uuid.uuid4().hex}.part"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    async def put(self, blob_id: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, blob_id, data)

    async def open(self, blob_id: str) -> bytes:
        return await asyncio.to_thread(self._path(blob_id).read_bytes)

    async def delete(self, blob_id: str) -> None:
        await asyncio.to_thread(self._path(blob_id).unlink, True)
