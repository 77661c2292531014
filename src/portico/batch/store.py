"""Batches and lines in the storage database (SQLite or PostgreSQL, one SQLAlchemy code path).

Every change that matters for recovery is one conditional UPDATE, so two replicas (or a
replica and its zombie) can race without corrupting anything: a lease is taken only when
free or expired, a line's result is written only while the line is still pending, and the
counters move in the same transaction as the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from portico.batch.records import ACTIVE, BatchRecord, Line, LineResult
from portico.batch.tables import batch_lines, batches

_COLUMNS = [f.name for f in fields(BatchRecord)]
_INSERT_CHUNK = 500


def _record(m: RowMapping) -> BatchRecord:
    values = {k: m[k] for k in _COLUMNS}
    values["metadata"] = dict(values["metadata"] or {})
    return BatchRecord(**values)


class BatchStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def summary(self) -> list[dict[str, Any]]:
        """Batches of every owner by status: how many, their lines done / failed / total, cost (the admin UI)."""
        b = batches.c
        query = select(
            b.status, func.count(), func.sum(b.completed), func.sum(b.failed), func.sum(b.total), func.sum(b.cost_usd)
        ).group_by(b.status)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        keys = ("status", "batches", "completed", "failed", "total", "cost_usd")
        return [dict(zip(keys, (r[0], *(v or 0 for v in r[1:])), strict=True)) for r in rows]

    async def insert(self, record: BatchRecord) -> None:
        row = {k: getattr(record, k) for k in _COLUMNS}
        async with self.engine.begin() as conn:
            await conn.execute(insert(batches).values(**row))

    async def get(self, batch_id: str) -> BatchRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(batches).where(batches.c.id == batch_id))).mappings().first()
        return _record(row) if row is not None else None

    async def page(self, owner: str, *, after: BatchRecord | None, limit: int) -> list[BatchRecord]:
        query = select(batches).where(batches.c.owner == owner)
        if after is not None:
            query = query.where(
                or_(
                    batches.c.created_at < after.created_at,
                    and_(batches.c.created_at == after.created_at, batches.c.id < after.id),
                )
            )
        query = query.order_by(batches.c.created_at.desc(), batches.c.id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_record(r) for r in rows]

    async def set(self, batch_id: str, *, when_status: Sequence[str] | None = None, **values: Any) -> bool:
        """Update fields; with ``when_status`` only if the batch is in one of those states."""
        query = update(batches).where(batches.c.id == batch_id)
        if when_status is not None:
            query = query.where(batches.c.status.in_(list(when_status)))
        async with self.engine.begin() as conn:
            result = await conn.execute(query.values(**values))
        return bool(result.rowcount)

    # ---- leases

    async def claimable(self, me: str, now: float) -> list[str]:
        """Active batches whose lease is free, expired or already ours, oldest first."""
        query = (
            select(batches.c.id)
            .where(batches.c.status.in_(ACTIVE))
            .where(or_(batches.c.lease_until.is_(None), batches.c.lease_until < now, batches.c.lease_owner == me))
            .order_by(batches.c.created_at)
            .limit(100)
        )
        async with self.engine.connect() as conn:
            return [r[0] for r in (await conn.execute(query)).all()]

    async def acquire(self, batch_id: str, me: str, now: float, until: float) -> bool:
        """Take (or renew) the lease if it is free, expired or ours: one replica runs a batch."""
        query = (
            update(batches)
            .where(batches.c.id == batch_id)
            .where(batches.c.status.in_(ACTIVE))
            .where(or_(batches.c.lease_until.is_(None), batches.c.lease_until < now, batches.c.lease_owner == me))
            .values(lease_owner=me, lease_until=until)
        )
        async with self.engine.begin() as conn:
            return bool((await conn.execute(query)).rowcount)

    async def release(self, batch_id: str, me: str) -> None:
        query = (
            update(batches)
            .where(batches.c.id == batch_id, batches.c.lease_owner == me)
            .values(lease_owner=None, lease_until=None)
        )
        async with self.engine.begin() as conn:
            await conn.execute(query)

    # ---- lines

    async def add_lines(self, batch_id: str, lines: Sequence[Line], **batch_values: Any) -> bool:
        """Store the validated lines and move the batch on, in one transaction (only once)."""
        async with self.engine.begin() as conn:
            moved = await conn.execute(
                update(batches)
                .where(batches.c.id == batch_id, batches.c.status == "validating")
                .values(total=len(lines), **batch_values)
            )
            if not moved.rowcount:
                return False
            for i in range(0, len(lines), _INSERT_CHUNK):
                rows = [
                    {
                        "batch_id": batch_id,
                        "line_no": ln.line_no,
                        "custom_id": ln.custom_id,
                        "body": ln.body,
                        "state": "pending",
                        "result": None,
                        "cost_usd": 0.0,
                    }
                    for ln in lines[i : i + _INSERT_CHUNK]
                ]
                await conn.execute(insert(batch_lines), rows)
        return True

    async def pending(self, batch_id: str, *, after: int, limit: int) -> list[Line]:
        query = (
            select(batch_lines.c.line_no, batch_lines.c.custom_id, batch_lines.c.body)
            .where(batch_lines.c.batch_id == batch_id, batch_lines.c.state == "pending", batch_lines.c.line_no > after)
            .order_by(batch_lines.c.line_no)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [Line(r[0], r[1], r[2]) for r in (await conn.execute(query)).all()]

    async def finish(self, batch_id: str, results: Sequence[LineResult]) -> int:
        """Write results of still-pending lines and count them, in one transaction (group commit).
        A line already finished (by a replica that lost its lease meanwhile) is left as it is."""
        if not results:
            return 0
        done = failed = 0
        cost = 0.0
        async with self.engine.begin() as conn:
            for r in results:
                written = await conn.execute(
                    update(batch_lines)
                    .where(
                        batch_lines.c.batch_id == batch_id,
                        batch_lines.c.line_no == r.line_no,
                        batch_lines.c.state == "pending",
                    )
                    .values(state="ok" if r.ok else "failed", result=r.result, cost_usd=r.cost_usd)
                )
                if written.rowcount:
                    done += r.ok
                    failed += not r.ok
                    cost += r.cost_usd
            if done or failed:
                await conn.execute(
                    update(batches)
                    .where(batches.c.id == batch_id)
                    .values(
                        completed=batches.c.completed + done,
                        failed=batches.c.failed + failed,
                        cost_usd=batches.c.cost_usd + cost,
                    )
                )
        return done + failed

    async def results(self, batch_id: str, *, ok: bool, after: int, limit: int) -> list[tuple[int, str]]:
        query = (
            select(batch_lines.c.line_no, batch_lines.c.result)
            .where(batch_lines.c.batch_id == batch_id, batch_lines.c.state == ("ok" if ok else "failed"))
            .where(batch_lines.c.line_no > after)
            .order_by(batch_lines.c.line_no)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in (await conn.execute(query)).all()]

    async def count_pending(self, batch_id: str) -> int:
        query = select(func.count()).where(batch_lines.c.batch_id == batch_id, batch_lines.c.state == "pending")
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())
