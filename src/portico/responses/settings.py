"""Settings of the Responses API (``responses:`` in portico.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ResponsesSettings(BaseModel):
    """Where stored responses live and for how long.

    With ``storage.enabled`` the responses go to the same database as keys and the ledger
    (table ``portico_responses``); without it they are kept in process memory, bounded by
    ``memory_max_items`` (the oldest are dropped first) and lost on restart.
    """

    model_config = ConfigDict(extra="forbid")

    retention_days: float = Field(
        default=30.0, gt=0, description="stored responses are deleted this many days after creation"
    )
    memory_max_items: int = Field(default=10_000, ge=1, description="bound of the in-memory store")
