"""Settings of the Batch API (the ``batch:`` section)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BatchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(default=None, description="default: on when the files API is")
    max_lines: int = Field(default=50_000, ge=1)
    max_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    concurrency_per_batch: int = Field(default=8, ge=1, description="lines of one batch in flight")
    concurrency_total: int = Field(default=16, ge=1, description="lines of all batches in flight, per replica")
    busy_concurrency: int = Field(
        default=1, ge=1, description="lines in flight (per replica) while interactive traffic is present"
    )
    quiet_ms: float = Field(
        default=500, gt=0, description="interactive traffic counts as present until it has been quiet this long"
    )
    lease_seconds: float = Field(default=15.0, gt=0, description="a dead replica's batches move after this")
    poll_seconds: float = Field(default=1.0, gt=0, description="how often a replica looks for batches to run")
    flush_ms: float = Field(default=50.0, gt=0, description="line results are committed in groups this often")
    window_seconds: float = Field(default=86_400.0, gt=0, description="what completion_window '24h' lasts")
