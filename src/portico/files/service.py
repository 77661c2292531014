"""FileService: the files API in-process (the HTTP routes and the batch runner both call it).

Every call names the owner (the uploading key's id, or ``anonymous`` with authentication
off); another owner's file is reported as not found, never as forbidden, so ids leak nothing.
Bytes go to the blob store before the metadata row, and the row goes before the bytes on
delete, so a listed file always has its content.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import PurePosixPath, PureWindowsPath

from portico.errors import InvalidRequest, NotFound, PayloadTooLarge
from portico.files.blobs import BlobStore
from portico.files.catalog import FileCatalog, Order
from portico.files.records import PURPOSES, FileObject, FilePage

log = logging.getLogger(__name__)
MAX_LIST = 10_000


def clean_filename(name: str) -> str:
    """The base name a client sent, without directories, at most 255 characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name.strip()
    return (base or "upload")[:255]


class FileService:
    def __init__(
        self,
        catalog: FileCatalog,
        blobs: BlobStore,
        *,
        max_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.clock = clock

    async def create(
        self, owner: str, purpose: str, filename: str, data: bytes, *, expires_after_s: float | None = None
    ) -> FileObject:
        if purpose not in PURPOSES:
            raise InvalidRequest(
                f"Invalid purpose '{purpose}'; expected one of {', '.join(sorted(PURPOSES))}.", param="purpose"
            )
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(f"The file is {len(data)} bytes; the limit is {self.max_bytes} bytes.", param="file")
        now = self.clock()
        record = FileObject(
            id="file-" + uuid.uuid4().hex[:24],
            owner=owner,
            purpose=purpose,
            filename=clean_filename(filename),
            bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=now,
            expires_at=now + expires_after_s if expires_after_s is not None else None,
        )
        await self.blobs.put(record.id, data)
        try:
            await self.catalog.insert(record)
        except BaseException:
            await self.blobs.delete(record.id)  # no orphan bytes when the row did not make it
            raise
        return record

    async def get(self, owner: str, file_id: str) -> FileObject:
        record = await self.catalog.get(file_id) if isinstance(file_id, str) and file_id else None
        if record is None or record.owner != owner or self._expired(record):
            raise NotFound(f"No file with id '{file_id}'.", code="file_not_found", param="file_id")
        return record

    async def content(self, owner: str, file_id: str) -> bytes:
        record = await self.get(owner, file_id)
        try:
            return await self.blobs.open(record.id)
        except FileNotFoundError:
            log.error("file %s has a record but no content in the blob store", record.id)
            raise NotFound(f"The content of file '{file_id}' is gone.", code="file_not_found") from None

    async def delete(self, owner: str, file_id: str) -> FileObject:
        record = await self.get(owner, file_id)
        if await self.catalog.delete(record.id):
            await self.blobs.delete(record.id)
        return record

    async def list(
        self,
        owner: str,
        purpose: str | None = None,
        after: str | None = None,
        limit: int = 20,
        order: Order = "desc",
    ) -> FilePage:
        if not 1 <= limit <= MAX_LIST:
            raise InvalidRequest(f"limit must be between 1 and {MAX_LIST}.", param="limit")
        if order not in ("asc", "desc"):
            raise InvalidRequest("order must be 'asc' or 'desc'.", param="order")
        cursor = await self.get(owner, after) if after else None
        rows = await self.catalog.list(
            owner, purpose=purpose, after=cursor, limit=limit + 1, order=order, now=self.clock()
        )
        return FilePage(rows[:limit], has_more=len(rows) > limit)

    def _expired(self, record: FileObject) -> bool:
        return record.expires_at is not None and record.expires_at <= self.clock()
