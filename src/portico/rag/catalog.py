"""Vector store metadata in the storage database (one SQLAlchemy code path for SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from portico.rag.records import FileBatch, FileCounts, VectorStore, VectorStoreFile
from portico.rag.tables import vector_store_batches, vector_store_files, vector_stores

Order = Literal["asc", "desc"]
T = vector_stores
F = vector_store_files
B = vector_store_batches


def _store(m: RowMapping, counts: FileCounts, usage: int) -> VectorStore:
    return VectorStore(
        id=m["id"],
        owner=m["owner"],
        team_id=m["team_id"],
        name=m["name"],
        mode=m["mode"],
        chunk_max=m["chunk_max"],
        chunk_overlap=m["chunk_overlap"],
        metadata=dict(m["metadata"] or {}),
        expires_days=m["expires_days"],
        created_at=float(m["created_at"]),
        last_active_at=float(m["last_active_at"]),
        counts=counts,
        usage_bytes=usage,
    )


def _file(m: RowMapping) -> VectorStoreFile:
    return VectorStoreFile(
        store_id=m["store_id"],
        file_id=m["file_id"],
        batch_id=m["batch_id"],
        status=m["status"],
        last_error=m["last_error"],
        attributes=dict(m["attributes"] or {}),
        sha256=m["sha256"],
        filename=m["filename"],
        usage_bytes=int(m["usage_bytes"]),
        chunks=int(m["chunks"]),
        chunk_max=int(m["chunk_max"]),
        chunk_overlap=int(m["chunk_overlap"]),
        created_at=float(m["created_at"]),
    )


def _after(created: Any, ident: Any, cursor: tuple[float, str], order: Order) -> Any:
    t, i = cursor
    if order == "desc":
        return or_(created < t, and_(created == t, ident < i))
    return or_(created > t, and_(created == t, ident > i))


class VectorStoreCatalog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # ---- stores ----------------------------------------------------------------------------
    async def summary(self) -> dict[str, Any]:
        """Stores of every owner, and their files by status with chunks and bytes (the admin UI)."""
        f = vector_store_files.c
        by_status = select(f.status, func.count(), func.sum(f.chunks), func.sum(f.usage_bytes)).group_by(f.status)
        async with self.engine.connect() as conn:
            stores = (await conn.execute(select(func.count()).select_from(vector_stores))).scalar_one()
            rows = (await conn.execute(by_status)).all()
        files = [{"status": r[0], "files": r[1], "chunks": int(r[2] or 0), "bytes": int(r[3] or 0)} for r in rows]
        return {"stores": int(stores), "files": files}

    async def insert_store(self, row: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(T).values(**row))

    async def _counts(self, conn: Any, store_ids: list[str]) -> dict[str, tuple[FileCounts, int]]:
        if not store_ids:
            return {}
        q = (
            select(F.c.store_id, F.c.status, func.count(), func.coalesce(func.sum(F.c.usage_bytes), 0))
            .where(F.c.store_id.in_(store_ids))
            .group_by(F.c.store_id, F.c.status)
        )
        raw: dict[str, dict[str, int]] = {}
        usage: dict[str, int] = {}
        for sid, status, n, used in (await conn.execute(q)).all():
            raw.setdefault(sid, {})[status] = int(n)
            usage[sid] = usage.get(sid, 0) + int(used)
        return {s: (FileCounts.of(raw.get(s, {})), usage.get(s, 0)) for s in store_ids}

    async def get_store(self, store_id: str) -> VectorStore | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(T).where(T.c.id == store_id))).mappings().first()
            if row is None:
                return None
            counts, usage = (await self._counts(conn, [store_id]))[store_id]
        return _store(row, counts, usage)

    async def list_stores(
        self, owner: str, team_id: str | None, *, after: tuple[float, str] | None, limit: int, order: Order
    ) -> list[VectorStore]:
        visible = T.c.owner == owner
        if team_id is not None:
            visible = or_(visible, T.c.team_id == team_id)
        q = select(T).where(visible)
        if after is not None:
            q = q.where(_after(T.c.created_at, T.c.id, after, order))
        keys = (T.c.created_at, T.c.id)
        q = q.order_by(*(k.desc() if order == "desc" else k.asc() for k in keys)).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
            counts = await self._counts(conn, [r["id"] for r in rows])
        return [_store(r, *counts[r["id"]]) for r in rows]

    async def find_store_by_name(self, owner: str, name: str) -> VectorStore | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(T.c.id).where(T.c.owner == owner, T.c.name == name).order_by(T.c.created_at)
                    )
                )
                .mappings()
                .first()
            )
        return await self.get_store(row["id"]) if row is not None else None

    async def update_store(self, store_id: str, values: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(T).where(T.c.id == store_id).values(**values))

    async def delete_store(self, store_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(F).where(F.c.store_id == store_id))
            await conn.execute(delete(B).where(B.c.store_id == store_id))
            await conn.execute(delete(T).where(T.c.id == store_id))

    # ---- files -----------------------------------------------------------------------------
    async def upsert_file(self, row: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(F).where(F.c.store_id == row["store_id"], F.c.file_id == row["file_id"]))
            await conn.execute(insert(F).values(**row))

    async def get_file(self, store_id: str, file_id: str) -> VectorStoreFile | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(F).where(F.c.store_id == store_id, F.c.file_id == file_id)))
                .mappings()
                .first()
            )
        return _file(row) if row is not None else None

    async def update_file(
        self, store_id: str, file_id: str, values: dict[str, Any], *, only_if: str | None = None
    ) -> bool:
        q = update(F).where(F.c.store_id == store_id, F.c.file_id == file_id)
        if only_if is not None:
            q = q.where(F.c.status == only_if)
        async with self.engine.begin() as conn:
            result = await conn.execute(q.values(**values))
        return bool(result.rowcount)

    async def delete_file(self, store_id: str, file_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(F).where(F.c.store_id == store_id, F.c.file_id == file_id))
        return bool(result.rowcount)

    async def list_files(
        self,
        store_id: str,
        *,
        batch_id: str | None = None,
        status: str | None = None,
        after: tuple[float, str] | None = None,
        limit: int = 20,
        order: Order = "desc",
    ) -> list[VectorStoreFile]:
        q = select(F).where(F.c.store_id == store_id)
        if batch_id is not None:
            q = q.where(F.c.batch_id == batch_id)
        if status is not None:
            q = q.where(F.c.status == status)
        if after is not None:
            q = q.where(_after(F.c.created_at, F.c.file_id, after, order))
        keys = (F.c.created_at, F.c.file_id)
        q = q.order_by(*(k.desc() if order == "desc" else k.asc() for k in keys)).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return [_file(r) for r in rows]

    async def files_in_progress(self) -> list[tuple[VectorStoreFile, str]]:
        """Every file still in progress, with its store's owner (to resume after a restart)."""
        q = select(F, T.c.owner).join(T, T.c.id == F.c.store_id).where(F.c.status == "in_progress")
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).mappings().all()
        return [(_file(r), r["owner"]) for r in rows]

    # ---- batches ---------------------------------------------------------------------------
    async def insert_batch(self, row: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(B).values(**row))

    async def get_batch(self, batch_id: str) -> FileBatch | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(B).where(B.c.id == batch_id))).mappings().first()
            if row is None:
                return None
            q = select(F.c.status, func.count()).where(F.c.batch_id == batch_id).group_by(F.c.status)
            counts = {s: int(n) for s, n in (await conn.execute(q)).all()}
        return FileBatch(
            row["id"], row["store_id"], bool(row["cancelled"]), float(row["created_at"]), FileCounts.of(counts)
        )

    async def cancel_batch(self, batch_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(B).where(B.c.id == batch_id).values(cancelled=1))
            await conn.execute(
                update(F).where(F.c.batch_id == batch_id, F.c.status == "in_progress").values(status="cancelled")
            )
