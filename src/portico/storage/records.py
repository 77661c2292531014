"""The rows the Store keeps: teams, virtual keys, and one record per request (ledger + audit)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BudgetPeriod = Literal["day", "month", "total"]


MAX_INT = 2_147_483_647  # the limits' database columns are 32-bit integers
MAX_USD = 1e12


class Limits(BaseModel):
    """Limits shared by keys and teams; None means unlimited."""

    model_config = ConfigDict(extra="forbid")

    rpm: int | None = Field(default=None, ge=1, le=MAX_INT)
    tpm: int | None = Field(default=None, ge=1, le=MAX_INT)
    max_concurrency: int | None = Field(default=None, ge=1, le=MAX_INT)
    budget_usd: float | None = Field(default=None, ge=0, le=MAX_USD, allow_inf_nan=False)
    budget_period: BudgetPeriod = "month"


class TeamSpec(Limits):
    """What an admin sends to create a team."""

    name: str = Field(min_length=1, max_length=200)
    allowed_models: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class KeySpec(Limits):
    """What an admin sends to create a key (the secret is generated, never supplied)."""

    name: str = Field(default="", max_length=200)
    owner: str | None = Field(default=None, max_length=200)
    team_id: str | None = None
    allowed_models: list[str] = Field(default_factory=list)
    expires_at: float | None = Field(
        default=None, ge=0, le=4_102_444_800, allow_inf_nan=False, description="unix time; None = never"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class LimitsUpdate(BaseModel):
    """An edit of a key's or team's models, limits and budget: only the fields sent change
    (send null to lift a limit)."""

    model_config = ConfigDict(extra="forbid")

    allowed_models: list[str] | None = None
    rpm: int | None = Field(default=None, ge=1, le=MAX_INT)
    tpm: int | None = Field(default=None, ge=1, le=MAX_INT)
    max_concurrency: int | None = Field(default=None, ge=1, le=MAX_INT)
    budget_usd: float | None = Field(default=None, ge=0, le=MAX_USD, allow_inf_nan=False)
    budget_period: BudgetPeriod | None = None

    def changes(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.model_fields_set}
        if "allowed_models" in out:
            out["allowed_models"] = list(out["allowed_models"] or [])
        if out.get("budget_period") is None:
            out.pop("budget_period", None)
        return out


@dataclass(slots=True, frozen=True)
class TeamRecord:
    id: str
    name: str
    allowed_models: tuple[str, ...]
    rpm: int | None
    tpm: int | None
    max_concurrency: int | None
    budget_usd: float | None
    budget_period: BudgetPeriod
    metadata: dict[str, Any]
    created_at: float

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["allowed_models"] = list(self.allowed_models)
        return out


@dataclass(slots=True, frozen=True)
class KeyRecord:
    """A virtual key as stored: ``secret_hash`` only, never the secret."""

    id: str
    secret_hash: str
    hint: str  # the first characters of the secret, enough to recognise it, not to use it
    name: str
    owner: str | None
    team_id: str | None
    allowed_models: tuple[str, ...]
    rpm: int | None
    tpm: int | None
    max_concurrency: int | None
    budget_usd: float | None
    budget_period: BudgetPeriod
    expires_at: float | None
    revoked_at: float | None
    metadata: dict[str, Any]
    created_at: float
    rotated_at: float | None = None

    def active(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def public(self) -> dict[str, Any]:
        """The key as the admin API and CLI show it (no hash)."""
        out = asdict(self)
        out.pop("secret_hash")
        out["allowed_models"] = list(self.allowed_models)
        return out


@dataclass(slots=True)
class RequestRecord:
    """One request: the ledger row and the audit row are both built from it.

    Identified by ``record_id`` so writing it twice (a journal replay) is harmless.
    """

    request_id: str  # as the client sees it (x-request-id; a client may reuse one)
    ts: float
    record_id: str = ""  # unique per record, made by the gateway: the idempotency key; "" = request_id
    key_id: str | None = None
    team_id: str | None = None
    model_requested: str = ""
    model: str = ""
    deployment: str = ""
    route_reason: str = ""
    status: int = 200
    error_code: str | None = None
    latency_ms: float = 0.0
    upstream_ms: float = 0.0  # time waiting on providers; latency - upstream = Portico's overhead
    attempts: int = 0  # upstream calls made (retries, fallbacks, cascade and ensemble calls)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cache_status: str = "off"
    stream: bool = False
    findings: list[dict[str, Any]] = field(default_factory=list)
    prompt_text: str | None = None
    response_text: str | None = None
    billable: bool = True  # False: audit row only (refused before admission)
    compression_saved_tokens: int = 0
    compression_saved_usd: float = 0.0


@dataclass(slots=True, frozen=True)
class SpendRow:
    group: str  # the key id, team id, model or day
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
