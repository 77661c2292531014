"""The batch record, its OpenAI wire shape, and the states it moves through.

validating -> in_progress -> finalizing -> completed
validating -> failed (the input file is invalid; ``errors`` names the lines)
in_progress -> finalizing -> expired (the window ended: partial output)
validating | in_progress -> cancelling -> cancelled (partial output)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")
TERMINAL = ("completed", "failed", "expired", "cancelled")


@dataclass(slots=True)
class BatchRecord:
    id: str
    owner: str
    endpoint: str
    input_file_id: str
    completion_window: str
    status: str
    created_at: float
    expires_at: float
    metadata: dict[str, str] = field(default_factory=dict)
    model: str | None = None
    errors: list[dict[str, Any]] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    in_progress_at: float | None = None
    finalizing_at: float | None = None
    completed_at: float | None = None
    failed_at: float | None = None
    expired_at: float | None = None
    cancelling_at: float | None = None
    cancelled_at: float | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    cost_usd: float = 0.0
    lease_owner: str | None = None
    lease_until: float | None = None

    def public(self) -> dict[str, Any]:
        """OpenAI's ``Batch`` object, plus ``model`` and the batch's total ``cost_usd``."""

        def ts(v: float | None) -> int | None:
            return int(v) if v is not None else None

        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.created_at),
            "in_progress_at": ts(self.in_progress_at),
            "expires_at": ts(self.expires_at),
            "finalizing_at": ts(self.finalizing_at),
            "completed_at": ts(self.completed_at),
            "failed_at": ts(self.failed_at),
            "expired_at": ts(self.expired_at),
            "cancelling_at": ts(self.cancelling_at),
            "cancelled_at": ts(self.cancelled_at),
            "request_counts": {"total": self.total, "completed": self.completed, "failed": self.failed},
            "metadata": dict(self.metadata),
            "cost_usd": round(self.cost_usd, 10),
        }


@dataclass(slots=True, frozen=True)
class Line:
    """One request of a batch, as stored: ``body`` is the request body's JSON text."""

    line_no: int
    custom_id: str
    body: str


@dataclass(slots=True, frozen=True)
class LineResult:
    """What one executed line produced: its output-file line (JSON text) and its cost."""

    line_no: int
    ok: bool
    result: str
    cost_usd: float
