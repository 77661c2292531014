"""The Store seam: keys, teams, request records (ledger + audit) and spend reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from portico.storage.records import (
    KeyRecord,
    KeySpec,
    LimitsUpdate,
    RequestRecord,
    SpendRow,
    TeamRecord,
    TeamSpec,
)

SpendGroup = Literal["key", "team", "model", "day"]
Scope = Literal["key", "team"]


class Store(Protocol):
    async def start(self) -> None:
        """Connect and bring the schema up to date (idempotent, safe from several processes)."""

    async def close(self) -> None: ...

    # keys
    async def create_key(self, spec: KeySpec, *, secret_hash: str, hint: str) -> KeyRecord: ...
    async def get_key(self, key_id: str) -> KeyRecord | None: ...
    async def find_key(self, secret_hash: str) -> KeyRecord | None: ...
    async def list_keys(self, *, team_id: str | None = None, include_revoked: bool = True) -> list[KeyRecord]: ...
    async def revoke_key(self, key_id: str) -> KeyRecord | None: ...
    async def rotate_key(self, key_id: str, *, secret_hash: str, hint: str) -> KeyRecord | None: ...
    async def update_key(self, key_id: str, update: LimitsUpdate) -> KeyRecord | None: ...

    # teams
    async def create_team(self, spec: TeamSpec) -> TeamRecord: ...
    async def get_team(self, team_id: str) -> TeamRecord | None: ...
    async def list_teams(self) -> list[TeamRecord]: ...
    async def update_team(self, team_id: str, update: LimitsUpdate) -> TeamRecord | None: ...

    # request records
    async def write_records(self, records: Sequence[RequestRecord]) -> None:
        """Insert ledger and audit rows; a record whose record id is already stored is skipped."""

    async def spend(
        self,
        group_by: SpendGroup,
        *,
        since: float | None = None,
        until: float | None = None,
        key_id: str | None = None,
        team_id: str | None = None,
        model: str | None = None,
    ) -> list[SpendRow]: ...

    async def spent(self, scope: Scope, scope_id: str, since: float) -> float:
        """USD spent by one key or team since ``since`` (seeds budget counters)."""

    async def audit(
        self, *, limit: int = 100, key_id: str | None = None, request_id: str | None = None
    ) -> list[dict[str, Any]]: ...

    async def maintain(self, now: float | None = None) -> dict[str, Any]:
        """Create the coming time partitions and apply the retention limits (idempotent)."""

    async def count_records(self) -> tuple[int, int]:
        """(ledger rows, audit rows)."""
