"""Who owns what a request creates: the caller's virtual key, the master key, or nobody.

Resources (files, vector stores) belong to the key that created them. The key was checked at
the door (``portico.auth.access``); this module only maps the door's grant to an owner. With
authentication off (no master key) a missing or unknown key is the one anonymous owner; a
known virtual key is still its own owner, so isolation holds in dev mode for real keys too.
"""

from __future__ import annotations

from dataclasses import dataclass

from portico.feature import Scope, grant_of
from portico.files.records import ANONYMOUS

MASTER = "master"


@dataclass(slots=True, frozen=True)
class Owner:
    id: str  # the key id, "master" or "anonymous"
    team_id: str | None = None


def owner_of(scope: Scope) -> Owner:
    """The owner for a request the door admitted (``request.scope`` in a FastAPI route)."""
    caller = grant_of(scope).caller
    if caller.is_master:
        return Owner(MASTER)
    if caller.key_id is None:
        return Owner(ANONYMOUS)
    return Owner(caller.key_id, caller.team_id)
