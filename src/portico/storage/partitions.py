"""Time partitions of ``portico_requests`` on PostgreSQL, and retention on every backend.

PostgreSQL: the table is range-partitioned on ``ts`` (unix seconds) by UTC day or month,
with a default partition catching anything outside the created ranges. ``maintain`` creates
the partitions ahead of time and drops those wholly older than the retention limit (a
constant-time ``DROP TABLE`` instead of a long ``DELETE`` that bloats the table), then deletes
the few rows older than the limit left in the boundary and default partitions, so the
retention is a true maximum. SQLite has no partitions: retention is one indexed ``DELETE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection

from portico.storage.tables import requests, spend_daily

Granularity = Literal["day", "month"]
PARENT = "portico_requests"
DEFAULT = "portico_requests_default"
_NAME = re.compile(r"^portico_requests_p(\d{8})$")


@dataclass(frozen=True, slots=True)
class Span:
    """One partition's range [start, end) as UTC datetimes, and its table name."""

    start: datetime
    end: datetime

    @property
    def name(self) -> str:
        return f"{PARENT}_p{self.start:%Y%m%d}"


def span_of(moment: datetime, granularity: Granularity) -> Span:
    if granularity == "day":
        start = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
        return Span(start, start + timedelta(days=1))
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)
    return Span(start, end)


def spans_ahead(now: float, granularity: Granularity, ahead: int) -> list[Span]:
    """The current partition's span and ``ahead`` more after it."""
    span = span_of(datetime.fromtimestamp(now, UTC), granularity)
    out = [span]
    for _ in range(ahead):
        span = span_of(span.end, granularity)
        out.append(span)
    return out


async def _existing(conn: AsyncConnection) -> set[str]:
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = :parent AND p.relnamespace = to_regnamespace(current_schema())::oid"
        ),
        {"parent": PARENT},
    )
    return {r[0] for r in rows}


async def ensure_partition(conn: AsyncConnection, span: Span) -> bool:
    """Create ``span``'s partition if missing; rows already caught by the default partition
    for that range are moved into it (PostgreSQL refuses a plain CREATE ... PARTITION OF then)."""
    if span.name in await _existing(conn):
        return False
    lo, hi = span.start.timestamp(), span.end.timestamp()
    bounds = f"FOR VALUES FROM ({lo!r}) TO ({hi!r})"
    stray = (
        await conn.execute(text(f"SELECT count(*) FROM {DEFAULT} WHERE ts >= {lo!r} AND ts < {hi!r}"))
    ).scalar_one()
    if not stray:
        await conn.execute(text(f"CREATE TABLE IF NOT EXISTS {span.name} PARTITION OF {PARENT} {bounds}"))
        return True
    await conn.execute(text(f"CREATE TABLE {span.name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    await conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE ts >= {lo!r} AND ts < {hi!r} RETURNING *) "
            f"INSERT INTO {span.name} SELECT * FROM moved"
        )
    )
    await conn.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {span.name} {bounds}"))
    return True


async def drop_expired(conn: AsyncConnection, cutoff: float, granularity: Granularity) -> list[str]:
    """Drop every partition that ends at or before ``cutoff``; return their names."""
    dropped = []
    for name in sorted(await _existing(conn)):
        m = _NAME.match(name)
        if m is None:
            continue
        start = datetime.strptime(m.group(1), "%Y%m%d").replace(tzinfo=UTC)
        if span_of(start, granularity).end.timestamp() <= cutoff:
            await conn.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    return dropped


async def delete_older(conn: AsyncConnection, cutoff: float) -> int:
    """Delete request rows older than ``cutoff`` (the boundary partition, the default one, SQLite)."""
    result = await conn.execute(delete(requests).where(requests.c.ts < cutoff))
    return int(result.rowcount or 0)


async def delete_rollup_older(conn: AsyncConnection, cutoff: float) -> int:
    day = datetime.fromtimestamp(cutoff, UTC).strftime("%Y-%m-%d")
    result = await conn.execute(delete(spend_daily).where(spend_daily.c.day < day))
    return int(result.rowcount or 0)
