"""File metadata in the storage database (SQLite or PostgreSQL, one SQLAlchemy code path)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from portico.files.records import FileObject
from portico.files.tables import files

Order = Literal["asc", "desc"]


def _record(m: RowMapping) -> FileObject:
    return FileObject(
        id=m["id"],
        owner=m["owner"],
        purpose=m["purpose"],
        filename=m["filename"],
        bytes=int(m["bytes"]),
        sha256=m["sha256"],
        created_at=float(m["created_at"]),
        expires_at=m["expires_at"],
        status=m["status"],
    )


class FileCatalog:
    """Rows of ``portico_files``. The engine is shared with (and migrated by) the caller."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def insert(self, record: FileObject) -> None:
        row: dict[str, Any] = {
            "id": record.id,
            "owner": record.owner,
            "purpose": record.purpose,
            "filename": record.filename,
            "bytes": record.bytes,
            "sha256": record.sha256,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
            "status": record.status,
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(files).values(**row))

    async def get(self, file_id: str) -> FileObject | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(files).where(files.c.id == file_id))).mappings().first()
        return _record(row) if row is not None else None

    async def delete(self, file_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(files).where(files.c.id == file_id))
        return bool(result.rowcount)

    async def list(
        self,
        owner: str,
        *,
        purpose: str | None,
        after: FileObject | None,
        limit: int,
        order: Order,
        now: float,
    ) -> list[FileObject]:
        """Up to ``limit`` live files of ``owner`` after the cursor, by (created_at, id)."""
        query = select(files).where(files.c.owner == owner, or_(files.c.expires_at.is_(None), files.c.expires_at > now))
        if purpose is not None:
            query = query.where(files.c.purpose == purpose)
        if after is not None:
            t, i = after.created_at, after.id
            if order == "desc":
                query = query.where(or_(files.c.created_at < t, and_(files.c.created_at == t, files.c.id < i)))
            else:
                query = query.where(or_(files.c.created_at > t, and_(files.c.created_at == t, files.c.id > i)))
        keys = (files.c.created_at, files.c.id)
        query = query.order_by(*(k.desc() if order == "desc" else k.asc() for k in keys)).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_record(r) for r in rows]
