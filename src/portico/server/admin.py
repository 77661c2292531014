"""The admin API under /admin (master key only, checked at the door): keys, teams, spend and audit.

Secrets appear exactly once, in the response that creates or rotates a key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from portico.auth.keys import KeyManager
from portico.errors import NotFound
from portico.storage.records import KeySpec, LimitsUpdate, TeamSpec
from portico.storage.store import Store

# Unix seconds between 1970 and 2100: NaN, infinities and far years are refused with a 400.
Timestamp = Annotated[float | None, Query(ge=0, le=4_102_444_800, allow_inf_nan=False)]


def admin_router(store: Store, keys: KeyManager) -> APIRouter:
    """The /admin routes; mounted with ``Access.ADMIN``, so the door lets only the master key in."""
    router = APIRouter(prefix="/admin", tags=["admin"])

    @router.post("/keys", status_code=201)
    async def create_key(spec: KeySpec) -> dict[str, Any]:
        record, secret = await keys.create(spec)
        return {**record.public(), "secret": secret}

    @router.get("/keys")
    async def list_keys(team_id: str | None = None, include_revoked: bool = True) -> dict[str, Any]:
        found = await store.list_keys(team_id=team_id, include_revoked=include_revoked)
        return {"data": [k.public() for k in found]}

    @router.get("/keys/{key_id}")
    async def show_key(key_id: str) -> dict[str, Any]:
        record = await store.get_key(key_id)
        if record is None:
            raise NotFound(f"No key '{key_id}'.", code="key_not_found")
        return record.public()

    @router.patch("/keys/{key_id}")
    async def update_key(key_id: str, update: LimitsUpdate) -> dict[str, Any]:
        record = await keys.update(key_id, update)
        if record is None:
            raise NotFound(f"No key '{key_id}'.", code="key_not_found")
        return record.public()

    @router.post("/keys/{key_id}/revoke")
    async def revoke_key(key_id: str) -> dict[str, Any]:
        record = await keys.revoke(key_id)
        if record is None:
            raise NotFound(f"No key '{key_id}'.", code="key_not_found")
        return record.public()

    @router.post("/keys/{key_id}/rotate")
    async def rotate_key(key_id: str) -> dict[str, Any]:
        rotated = await keys.rotate(key_id)
        if rotated is None:
            raise NotFound(f"No active key '{key_id}'.", code="key_not_found")
        record, secret = rotated
        return {**record.public(), "secret": secret}

    @router.post("/teams", status_code=201)
    async def create_team(spec: TeamSpec) -> dict[str, Any]:
        return (await store.create_team(spec)).public()

    @router.get("/teams")
    async def list_teams() -> dict[str, Any]:
        return {"data": [t.public() for t in await store.list_teams()]}

    @router.get("/teams/{team_id}")
    async def show_team(team_id: str) -> dict[str, Any]:
        team = await store.get_team(team_id)
        if team is None:
            raise NotFound(f"No team '{team_id}'.", code="team_not_found")
        return {**team.public(), "keys": [k.public() for k in await store.list_keys(team_id=team_id)]}

    @router.patch("/teams/{team_id}")
    async def update_team(team_id: str, update: LimitsUpdate) -> dict[str, Any]:
        team = await keys.update_team(team_id, update)
        if team is None:
            raise NotFound(f"No team '{team_id}'.", code="team_not_found")
        return team.public()

    @router.get("/spend")
    async def spend(
        group_by: Annotated[Literal["key", "team", "model", "day"], Query()] = "key",
        since: Timestamp = None,
        until: Timestamp = None,
        key_id: str | None = None,
        team_id: str | None = None,
        model: str | None = None,
    ) -> dict[str, Any]:
        rows = await store.spend(group_by, since=since, until=until, key_id=key_id, team_id=team_id, model=model)
        return {
            "group_by": group_by,
            "data": [
                {
                    group_by: r.group,
                    "requests": r.requests,
                    "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens,
                    "cost_usd": r.cost_usd,
                }
                for r in rows
            ],
            "total_usd": sum(r.cost_usd for r in rows),
        }

    @router.get("/audit")
    async def audit(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        key_id: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        return {"data": await store.audit(limit=limit, key_id=key_id, request_id=request_id)}

    return router
