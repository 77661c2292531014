"""Who owns what a request creates: the presented virtual key, the master key, or nobody.

Resources (files, vector stores) belong to the key that created them. With authentication
off (no master key) every unknown or missing key maps to the one anonymous owner; a known
virtual key is still its own owner, so isolation holds in dev mode for real keys too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from portico.auth.resolver import KeyResolver
from portico.auth.stage import AuthStage, presented_secret
from portico.errors import AuthenticationFailed
from portico.files.records import ANONYMOUS

MASTER = "master"


@dataclass(slots=True, frozen=True)
class Owner:
    id: str  # the key id, "master" or "anonymous"
    team_id: str | None = None


class OwnerResolver:
    """``await resolver(headers) -> Owner`` or AuthenticationFailed (401)."""

    def __init__(self, auth: AuthStage | None = None, keys: KeyResolver | None = None) -> None:
        self.auth = auth
        self.keys = keys

    async def __call__(self, headers: dict[str, str]) -> Owner:
        secret = presented_secret(headers)
        strict = self.auth is not None and self.auth.has_master
        if secret is None:
            if strict:
                raise AuthenticationFailed(
                    "Missing API key: send 'Authorization: Bearer <key>' (or 'x-api-key: <key>')."
                )
            return Owner(ANONYMOUS)
        if self.auth is not None and self.auth.is_master(secret):
            return Owner(MASTER)
        principal = await self.keys.resolve(secret) if self.keys is not None else None
        if principal is None:
            if strict:
                raise AuthenticationFailed("Invalid API key.")
            return Owner(ANONYMOUS)
        key = principal.key
        if key.revoked_at is not None:
            raise AuthenticationFailed("This API key has been revoked.", code="key_revoked")
        if key.expires_at is not None and key.expires_at <= time.time():
            raise AuthenticationFailed("This API key has expired.", code="key_expired")
        return Owner(key.id, key.team_id)
