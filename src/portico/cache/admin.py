"""``POST /admin/cache/entries`` and ``POST /admin/cache/refit``: load an FAQ into the cache.

An entry is stored by the CacheStage itself, as if the upstream had given the entry's answer
to the entry's request: same exact key, same semantic scope, same answer group as live
traffic. Master key only (mounted with ``Access.ADMIN``): an entry puts an arbitrary answer in
front of whichever tenant ``key_id`` / ``team_id`` name.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from portico.cache.keys import current_turn
from portico.cache.policy import GROUP_HEADER, HEADER, parse_group, resolve
from portico.cache.stage import CacheStage
from portico.errors import InvalidRequest
from portico.pipeline import Caller, Reply, RequestContext
from portico.types import ChatRequest, ChatResponse, Choice, ResponseMessage


class CacheEntry(BaseModel):
    """One question and the answer to store for it."""

    model_config = ConfigDict(extra="forbid")

    # The request as the application sends it; its last user message is the question.
    request: ChatRequest
    answer: str = Field(min_length=1)
    group: str | None = None  # as x-portico-cache-group; None: the answer's hash
    # The tenant whose cache gets the entry (cache.partition: key -> key_id, team -> team_id).
    key_id: str | None = None
    team_id: str | None = None


async def store_entry(stage: CacheStage, entry: CacheEntry) -> dict[str, Any]:
    """Run the stage with the entry's answer standing in for the upstream; ``no-cache`` so that
    an entry already cached is stored again (with this answer and group), never served."""
    request = entry.request.model_copy(update={"stream": False, "stream_options": None})
    headers = {HEADER: "no-cache"}
    if entry.group is not None:
        headers[GROUP_HEADER] = entry.group
        parse_group(entry.group)  # the header's 400, before anything is stored
    ctx = RequestContext(
        request_id="warm-" + uuid.uuid4().hex,
        request=request,
        headers=headers,
        caller=Caller(key_id=entry.key_id, team_id=entry.team_id),
    )

    async def answer(ctx: RequestContext) -> Reply:
        message = ResponseMessage(content=entry.answer)
        return ChatResponse(model=ctx.model, choices=[Choice(message=message, finish_reason="stop")])

    await stage(ctx, answer)
    if ctx.cache_status != "miss":  # "bypass": the cache would never serve this request
        raise InvalidRequest(
            f"this request is not cacheable ({ctx.cache_status}): send temperature 0 (or set "
            "cache.cache_sampled), n 1, and a model whose cache rule is not off",
            param="request",
        )
    semantic = stage.semantic is not None and resolve(stage.settings, ctx).tier == "semantic"
    return {"stored": True, "semantic": semantic and current_turn(request) is not None}


async def refit(stage: CacheStage) -> dict[str, Any]:
    """Fit every scope's group model now (a warm ends with it, so the FAQ is served at once)."""
    groups = stage.semantic.groups if stage.semantic is not None else None
    if groups is None:
        return {"models": []}
    await groups.refit_all()
    return {
        "models": [
            {
                "entries": m.entries,
                "groups": len(m.servable),
                "threshold": m.threshold if m.threshold != float("inf") else None,
                "held_out_coverage": round(m.held_out_coverage, 4),
                "held_out_wrong_rate": round(m.held_out_wrong_rate, 4),
            }
            for m in groups.models()
        ]
    }


def cache_router(stage: CacheStage) -> Any:
    """A FastAPI APIRouter (FastAPI is imported here, off the hot path's import chain)."""
    from fastapi import APIRouter

    router = APIRouter(prefix="/admin/cache", tags=["admin"])

    @router.post("/entries")
    async def add_entry(entry: CacheEntry) -> dict[str, Any]:
        return await store_entry(stage, entry)

    @router.post("/refit")
    async def refit_groups() -> dict[str, Any]:
        return await refit(stage)

    return router
