"""The one Store implementation: SQLAlchemy 2 async, on SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, event, func, insert, literal, select, text
from sqlalchemy import update as update_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from portico.storage.migrate import migrate
from portico.storage.partitions import delete_older, delete_rollup_older, drop_expired, ensure_partition, spans_ahead
from portico.storage.records import (
    KeyRecord,
    KeySpec,
    LimitsUpdate,
    RequestRecord,
    SpendRow,
    TeamRecord,
    TeamSpec,
)
from portico.storage.rollup import DAY, Plan, aggregate, day_of, plan
from portico.storage.settings import StorageSettings
from portico.storage.store import Scope, SpendGroup
from portico.storage.tables import keys, requests, spend_daily, teams

# Arbitrary constant: one replica at a time creates or drops partitions.
_MAINTENANCE_LOCK = 72_610_004
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers (admin reports) run beside the background writer; busy_timeout lets
    # several processes share one file.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_engine(settings: StorageSettings) -> AsyncEngine:
    url = settings.url
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if settings.schema_name:
        if not _SCHEMA_NAME.match(settings.schema_name):
            raise ValueError(f"storage.schema_name {settings.schema_name!r} is not a plain identifier")
        connect_args["server_settings"] = {"search_path": settings.schema_name}
    return create_async_engine(
        url, pool_size=settings.pool_size, max_overflow=settings.pool_size, connect_args=connect_args
    )


def _key(row: Row[Any]) -> KeyRecord:
    m = row._mapping
    return KeyRecord(
        id=m["id"],
        secret_hash=m["secret_hash"],
        hint=m["hint"],
        name=m["name"],
        owner=m["owner"],
        team_id=m["team_id"],
        allowed_models=tuple(m["allowed_models"] or ()),
        rpm=m["rpm"],
        tpm=m["tpm"],
        max_concurrency=m["max_concurrency"],
        budget_usd=m["budget_usd"],
        budget_period=m["budget_period"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
        metadata=dict(m["metadata"] or {}),
        created_at=m["created_at"],
        rotated_at=m["rotated_at"],
    )


def _team(row: Row[Any]) -> TeamRecord:
    m = row._mapping
    return TeamRecord(
        id=m["id"],
        name=m["name"],
        allowed_models=tuple(m["allowed_models"] or ()),
        rpm=m["rpm"],
        tpm=m["tpm"],
        max_concurrency=m["max_concurrency"],
        budget_usd=m["budget_usd"],
        budget_period=m["budget_period"],
        metadata=dict(m["metadata"] or {}),
        created_at=m["created_at"],
    )


def _request_row(r: RequestRecord) -> dict[str, Any]:
    return {
        "record_id": r.record_id or r.request_id,
        "request_id": r.request_id,
        "ts": r.ts,
        "key_id": r.key_id,
        "team_id": r.team_id,
        "model_requested": r.model_requested,
        "model_served": r.model,
        "deployment": r.deployment,
        "route_reason": r.route_reason,
        "status": r.status,
        "error_code": r.error_code,
        "latency_ms": r.latency_ms,
        "upstream_ms": r.upstream_ms,
        "attempts": min(r.attempts, 32767),
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "cost_usd": r.cost_usd,
        "compression_saved_tokens": r.compression_saved_tokens,
        "compression_saved_usd": r.compression_saved_usd,
        "cache_status": r.cache_status,
        "stream": r.stream,
        "billable": r.billable,
        "findings": r.findings or None,
        "prompt_text": r.prompt_text,
        "response_text": r.response_text,
    }


def _audit_view(row: Row[Any]) -> dict[str, Any]:
    out = dict(row._mapping)
    out["findings"] = out["findings"] or []
    out["overhead_ms"] = round(max(0.0, out["latency_ms"] - out["upstream_ms"]), 3)
    return out


class SqlStore:
    """Keys, teams, ledger and audit in one SQL database; the schema is migrated by ``start``."""

    def __init__(self, settings: StorageSettings, *, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_engine(settings)
        # Reads run without BEGIN/ROLLBACK: one round trip per query instead of three, which
        # is most of a look-up's time when the database host is busy.
        self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    async def start(self) -> None:
        await migrate(self.engine, schema=self.settings.schema_name)

    async def close(self) -> None:
        await self.engine.dispose()

    # ---- keys

    async def create_key(self, spec: KeySpec, *, secret_hash: str, hint: str) -> KeyRecord:
        key_id = "key_" + secrets.token_hex(8)
        values: dict[str, Any] = {
            "id": key_id,
            "secret_hash": secret_hash,
            "hint": hint,
            "name": spec.name,
            "owner": spec.owner,
            "team_id": spec.team_id,
            "allowed_models": list(spec.allowed_models),
            "rpm": spec.rpm,
            "tpm": spec.tpm,
            "max_concurrency": spec.max_concurrency,
            "budget_usd": spec.budget_usd,
            "budget_period": spec.budget_period,
            "expires_at": spec.expires_at,
            "revoked_at": None,
            "metadata": dict(spec.metadata),
            "created_at": time.time(),
            "rotated_at": None,
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(keys).values(**values))
        record = await self.get_key(key_id)
        assert record is not None
        return record

    async def _one_key(self, where: ColumnElement[bool]) -> KeyRecord | None:
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(keys).where(where))).first()
        return _key(row) if row is not None else None

    async def get_key(self, key_id: str) -> KeyRecord | None:
        return await self._one_key(keys.c.id == key_id)

    async def find_key(self, secret_hash: str) -> KeyRecord | None:
        return await self._one_key(keys.c.secret_hash == secret_hash)

    async def list_keys(self, *, team_id: str | None = None, include_revoked: bool = True) -> list[KeyRecord]:
        query = select(keys).order_by(keys.c.created_at, keys.c.id)
        if team_id is not None:
            query = query.where(keys.c.team_id == team_id)
        if not include_revoked:
            query = query.where(keys.c.revoked_at.is_(None))
        async with self._reader.connect() as conn:
            return [_key(r) for r in (await conn.execute(query)).all()]

    async def revoke_key(self, key_id: str) -> KeyRecord | None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update_(keys).where(keys.c.id == key_id, keys.c.revoked_at.is_(None)).values(revoked_at=time.time())
            )
        return await self.get_key(key_id)

    async def rotate_key(self, key_id: str, *, secret_hash: str, hint: str) -> KeyRecord | None:
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update_(keys)
                .where(keys.c.id == key_id, keys.c.revoked_at.is_(None))
                .values(secret_hash=secret_hash, hint=hint, rotated_at=time.time())
            )
        return await self.get_key(key_id) if done.rowcount else None

    async def update_key(self, key_id: str, update: LimitsUpdate) -> KeyRecord | None:
        changes = update.changes()
        if changes:
            async with self.engine.begin() as conn:
                await conn.execute(update_(keys).where(keys.c.id == key_id).values(**changes))
        return await self.get_key(key_id)

    # ---- teams

    async def create_team(self, spec: TeamSpec) -> TeamRecord:
        team_id = "team_" + secrets.token_hex(6)
        values: dict[str, Any] = {
            "id": team_id,
            "name": spec.name,
            "allowed_models": list(spec.allowed_models),
            "rpm": spec.rpm,
            "tpm": spec.tpm,
            "max_concurrency": spec.max_concurrency,
            "budget_usd": spec.budget_usd,
            "budget_period": spec.budget_period,
            "metadata": dict(spec.metadata),
            "created_at": time.time(),
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(teams).values(**values))
        record = await self.get_team(team_id)
        assert record is not None
        return record

    async def get_team(self, team_id: str) -> TeamRecord | None:
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(teams).where(teams.c.id == team_id))).first()
        return _team(row) if row is not None else None

    async def list_teams(self) -> list[TeamRecord]:
        async with self._reader.connect() as conn:
            rows = (await conn.execute(select(teams).order_by(teams.c.created_at, teams.c.id))).all()
        return [_team(r) for r in rows]

    async def update_team(self, team_id: str, update: LimitsUpdate) -> TeamRecord | None:
        changes = update.changes()
        if changes:
            async with self.engine.begin() as conn:
                await conn.execute(update_(teams).where(teams.c.id == team_id).values(**changes))
        return await self.get_team(team_id)

    # ---- request records

    async def write_records(self, records: Sequence[RequestRecord]) -> None:
        if not records:
            return
        rows = [_request_row(r) for r in records]
        t = requests.c
        stmt = (
            self._insert(requests)
            .on_conflict_do_nothing(index_elements=["record_id", "ts"])
            .returning(
                t.ts, t.key_id, t.team_id, t.model_served, t.prompt_tokens, t.completion_tokens, t.cost_usd, t.billable
            )
        )
        async with self.engine.begin() as conn:
            # Only the rows actually inserted reach the rollup: a replayed record adds nothing.
            inserted = (await conn.execute(stmt, rows)).all()
            sums = aggregate(r._mapping for r in inserted)
            if sums:
                up = self._insert(spend_daily)
                d = spend_daily.c
                await conn.execute(
                    up.on_conflict_do_update(
                        index_elements=["day", "key_id", "team_id", "model"],
                        set_={
                            "requests": d.requests + up.excluded.requests,
                            "prompt_tokens": d.prompt_tokens + up.excluded.prompt_tokens,
                            "completion_tokens": d.completion_tokens + up.excluded.completion_tokens,
                            "cost_usd": d.cost_usd + up.excluded.cost_usd,
                        },
                    ),
                    sums,
                )

    async def spend(
        self,
        group_by: SpendGroup,
        *,
        since: float | None = None,
        until: float | None = None,
        key_id: str | None = None,
        team_id: str | None = None,
        model: str | None = None,
    ) -> list[SpendRow]:
        where = plan(since, until)
        totals: dict[str, list[float]] = {}

        def add(group: Any, n: Any, p: Any, c: Any, cost: Any) -> None:
            g = str(group) if group not in (None, "") else "-"
            acc = totals.setdefault(g, [0, 0, 0, 0.0])
            for i, v in enumerate((n, p, c, cost)):
                acc[i] += v or 0

        async with self._reader.connect() as conn:
            if where.use_rollup:
                for r in (await conn.execute(self._rollup_query(group_by, where, key_id, team_id, model))).all():
                    add(*r)
            for lo, hi in where.edges:
                query = self._raw_query(group_by, lo, hi, key_id, team_id, model)
                for r in (await conn.execute(query)).all():
                    add(day_of(lo if lo is not None else 0.0) if group_by == "day" else r[0], *r[1:])
        rows = [
            SpendRow(group=g, requests=int(v[0]), prompt_tokens=int(v[1]), completion_tokens=int(v[2]), cost_usd=v[3])
            for g, v in totals.items()
            if v[0]
        ]
        if group_by == "day":
            return sorted(rows, key=lambda r: r.group)
        return sorted(rows, key=lambda r: (-r.cost_usd, r.group))

    @staticmethod
    def _rollup_query(
        group_by: SpendGroup, where: Plan, key_id: str | None, team_id: str | None, model: str | None
    ) -> Select[Any]:
        d = spend_daily.c
        column = {"key": d.key_id, "team": d.team_id, "model": d.model, "day": d.day}[group_by]
        query = select(
            column, func.sum(d.requests), func.sum(d.prompt_tokens), func.sum(d.completion_tokens), func.sum(d.cost_usd)
        ).group_by(column)
        for value, col in ((key_id, d.key_id), (team_id, d.team_id), (model, d.model)):
            if value is not None:
                query = query.where(col == value)
        if where.first_day is not None:
            query = query.where(d.day >= where.first_day)
        if where.end_day is not None:
            query = query.where(d.day < where.end_day)
        return query

    @staticmethod
    def _raw_query(
        group_by: SpendGroup,
        lo: float | None,
        hi: float | None,
        key_id: str | None,
        team_id: str | None,
        model: str | None,
    ) -> Select[Any]:
        t = requests.c
        column = {"key": t.key_id, "team": t.team_id, "model": t.model_served, "day": None}[group_by]
        sums = (
            func.count(),
            func.sum(t.prompt_tokens),
            func.sum(t.completion_tokens),
            func.sum(t.cost_usd),
        )
        # an edge lies within one day, so "by day" is a plain total labelled by the caller
        query = select(literal("") if column is None else column, *sums).where(t.billable.is_(True))
        if column is not None:
            query = query.group_by(column)
        for value, col in ((key_id, t.key_id), (team_id, t.team_id), (model, t.model_served)):
            if value is not None:
                query = query.where(col == value)
        if lo is not None:
            query = query.where(t.ts >= lo)
        if hi is not None:
            query = query.where(t.ts < hi)
        return query

    async def spent(self, scope: Scope, scope_id: str, since: float) -> float:
        rows = await self.spend(
            "key" if scope == "key" else "team",
            since=since,
            key_id=scope_id if scope == "key" else None,
            team_id=scope_id if scope == "team" else None,
        )
        return float(sum(r.cost_usd for r in rows))

    async def audit(
        self, *, limit: int = 100, key_id: str | None = None, request_id: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(requests)
        if key_id is not None:
            query = query.where(requests.c.key_id == key_id)
        if request_id is not None:
            # Materialised first: else the planner walks the ts index backwards looking for the
            # id (LIMIT makes that look cheap) instead of probing the request_id index.
            found = query.where(requests.c.request_id == request_id).cte("found").prefix_with("MATERIALIZED")
            query = select(found)
            order = found.c.ts.desc()
        else:
            order = requests.c.ts.desc()
        query = query.order_by(order).limit(limit)
        async with self._reader.connect() as conn:
            return [_audit_view(r) for r in (await conn.execute(query)).all()]

    async def maintain(self, now: float | None = None) -> dict[str, Any]:
        """Create the coming partitions (PostgreSQL) and apply the retention limits."""
        now = time.time() if now is None else now
        s = self.settings
        report: dict[str, Any] = {"created": [], "dropped": [], "deleted": 0, "rollup_deleted": 0}
        async with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MAINTENANCE_LOCK})
                for span in spans_ahead(now, s.partition, s.partitions_ahead):
                    if await ensure_partition(conn, span):
                        report["created"].append(span.name)
                if s.retention_days is not None:
                    report["dropped"] = await drop_expired(conn, now - s.retention_days * DAY, s.partition)
            if s.retention_days is not None:
                report["deleted"] = await delete_older(conn, now - s.retention_days * DAY)
            if s.rollup_retention_days is not None:
                report["rollup_deleted"] = await delete_rollup_older(conn, now - s.rollup_retention_days * DAY)
        return report

    async def count_records(self) -> tuple[int, int]:
        async with self._reader.connect() as conn:
            billable = select(func.count()).select_from(requests).where(requests.c.billable.is_(True))
            n_ledger = (await conn.execute(billable)).scalar_one()
            n_audit = (await conn.execute(select(func.count()).select_from(requests))).scalar_one()
        return int(n_ledger), int(n_audit)
