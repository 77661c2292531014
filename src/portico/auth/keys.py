"""Key administration shared by the admin API and the CLI: secrets are made here and shown once."""

from __future__ import annotations

from portico.auth.resolver import KeyResolver
from portico.auth.secrets import hash_secret, hint, new_secret
from portico.errors import InvalidRequest
from portico.storage.records import KeyRecord, KeySpec, LimitsUpdate, TeamRecord
from portico.storage.store import Store


class KeyManager:
    def __init__(self, store: Store, resolver: KeyResolver | None = None) -> None:
        self.store = store
        self.resolver = resolver

    async def create(self, spec: KeySpec) -> tuple[KeyRecord, str]:
        """A new key and its secret (the only time the secret exists in clear)."""
        if spec.team_id is not None and await self.store.get_team(spec.team_id) is None:
            raise InvalidRequest(f"Team '{spec.team_id}' does not exist.", param="team_id")
        secret = new_secret()
        record = await self.store.create_key(spec, secret_hash=hash_secret(secret), hint=hint(secret))
        return record, secret

    async def rotate(self, key_id: str) -> tuple[KeyRecord, str] | None:
        """A new secret for the same key (limits and spend carry over); the old one stops working."""
        secret = new_secret()
        record = await self.store.rotate_key(key_id, secret_hash=hash_secret(secret), hint=hint(secret))
        if self.resolver is not None:
            self.resolver.invalidate(key_id)
        return (record, secret) if record is not None else None

    async def revoke(self, key_id: str) -> KeyRecord | None:
        record = await self.store.revoke_key(key_id)
        if self.resolver is not None:
            self.resolver.invalidate(key_id)
        return record

    async def update(self, key_id: str, update: LimitsUpdate) -> KeyRecord | None:
        """Change a key's models, limits or budget; takes effect on its next request."""
        record = await self.store.update_key(key_id, update)
        if self.resolver is not None:
            self.resolver.invalidate(key_id)
        return record

    async def update_team(self, team_id: str, update: LimitsUpdate) -> TeamRecord | None:
        record = await self.store.update_team(team_id, update)
        if self.resolver is not None:
            self.resolver.invalidate()
        return record
