"""The one Store implementation: SQLAlchemy 2 async, on SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from portico.pipeline.context import is_cache_hit
from portico.storage.migrate import migrate
from portico.storage.records import KeyRecord, KeySpec, RequestRecord, SpendRow, TeamRecord, TeamSpec
from portico.storage.settings import StorageSettings
from portico.storage.store import Scope, SpendGroup
from portico.storage.tables import audit, keys, ledger, teams

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


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


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


def _ledger_row(r: RequestRecord) -> dict[str, Any]:
    return {
        "record_id": r.record_id or r.request_id,
        "request_id": r.request_id,
        "ts": r.ts,
        "day": _day(r.ts),
        "key_id": r.key_id,
        "team_id": r.team_id,
        "model": r.model,
        "deployment": r.deployment,
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "cost_usd": r.cost_usd,
        "cache_hit": is_cache_hit(r.cache_status),
        "status": r.status,
        "compression_saved_tokens": r.compression_saved_tokens,
        "compression_saved_usd": r.compression_saved_usd,
    }


def _audit_row(r: RequestRecord) -> dict[str, Any]:
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
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "cost_usd": r.cost_usd,
        "cache_status": r.cache_status,
        "stream": r.stream,
        "findings": r.findings,
        "prompt_text": r.prompt_text,
        "response_text": r.response_text,
    }


class SqlStore:
    """Keys, teams, ledger and audit in one SQL database; the schema is migrated by ``start``."""

    def __init__(self, settings: StorageSettings, *, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_engine(settings)
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
        async with self.engine.connect() as conn:
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
        async with self.engine.connect() as conn:
            return [_key(r) for r in (await conn.execute(query)).all()]

    async def revoke_key(self, key_id: str) -> KeyRecord | None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(keys).where(keys.c.id == key_id, keys.c.revoked_at.is_(None)).values(revoked_at=time.time())
            )
        return await self.get_key(key_id)

    async def rotate_key(self, key_id: str, *, secret_hash: str, hint: str) -> KeyRecord | None:
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(keys)
                .where(keys.c.id == key_id, keys.c.revoked_at.is_(None))
                .values(secret_hash=secret_hash, hint=hint, rotated_at=time.time())
            )
        return await self.get_key(key_id) if done.rowcount else None

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
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(teams).where(teams.c.id == team_id))).first()
        return _team(row) if row is not None else None

    async def list_teams(self) -> list[TeamRecord]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(teams).order_by(teams.c.created_at, teams.c.id))).all()
        return [_team(r) for r in rows]

    # ---- request records

    async def write_records(self, records: Sequence[RequestRecord]) -> None:
        if not records:
            return
        billable = [_ledger_row(r) for r in records if r.billable]
        rows = [_audit_row(r) for r in records]
        async with self.engine.begin() as conn:
            if billable:
                stmt = self._insert(ledger).on_conflict_do_nothing(index_elements=["record_id"])
                await conn.execute(stmt, billable)
            stmt = self._insert(audit).on_conflict_do_nothing(index_elements=["record_id"])
            await conn.execute(stmt, rows)

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
        column = {
            "key": ledger.c.key_id,
            "team": ledger.c.team_id,
            "model": ledger.c.model,
            "day": ledger.c.day,
        }[group_by]
        cost = func.coalesce(func.sum(ledger.c.cost_usd), 0.0)
        query = select(
            column,
            func.count(),
            func.coalesce(func.sum(ledger.c.prompt_tokens), 0),
            func.coalesce(func.sum(ledger.c.completion_tokens), 0),
            cost,
        ).group_by(column)
        for value, col in ((key_id, ledger.c.key_id), (team_id, ledger.c.team_id), (model, ledger.c.model)):
            if value is not None:
                query = query.where(col == value)
        if since is not None:
            query = query.where(ledger.c.ts >= since)
        if until is not None:
            query = query.where(ledger.c.ts < until)
        query = query.order_by(column) if group_by == "day" else query.order_by(cost.desc())
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            SpendRow(
                group=str(r[0]) if r[0] is not None else "-",
                requests=int(r[1]),
                prompt_tokens=int(r[2]),
                completion_tokens=int(r[3]),
                cost_usd=float(r[4]),
            )
            for r in rows
        ]

    async def spent(self, scope: Scope, scope_id: str, since: float) -> float:
        col = ledger.c.key_id if scope == "key" else ledger.c.team_id
        query = select(func.coalesce(func.sum(ledger.c.cost_usd), 0.0)).where(col == scope_id, ledger.c.ts >= since)
        async with self.engine.connect() as conn:
            return float((await conn.execute(query)).scalar_one())

    async def audit(
        self, *, limit: int = 100, key_id: str | None = None, request_id: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(audit).order_by(audit.c.ts.desc()).limit(limit)
        if key_id is not None:
            query = query.where(audit.c.key_id == key_id)
        if request_id is not None:
            query = query.where(audit.c.request_id == request_id)
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in (await conn.execute(query)).all()]

    async def count_records(self) -> tuple[int, int]:
        async with self.engine.connect() as conn:
            n_ledger = (await conn.execute(select(func.count()).select_from(ledger))).scalar_one()
            n_audit = (await conn.execute(select(func.count()).select_from(audit))).scalar_one()
        return int(n_ledger), int(n_audit)
