"""The authenticated caller's key and team, as the admission stage needs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from portico.limits.limiter import ScopeLimits
from portico.pipeline import Caller
from portico.storage.records import KeyRecord, TeamRecord

STATE_KEY = "portico.auth.principal"


@dataclass(slots=True, frozen=True)
class Principal:
    key: KeyRecord
    team: TeamRecord | None
    scopes: tuple[ScopeLimits, ...] = field(default=())
    caller: Caller = field(default_factory=Caller)

    @classmethod
    def of(cls, key: KeyRecord, team: TeamRecord | None) -> Principal:
        scopes = []
        for kind, rec in (("key", key), ("team", team)):
            if rec is None:
                continue
            lim = ScopeLimits(
                scope=f"{kind}:{rec.id}",
                rpm=rec.rpm,
                tpm=rec.tpm,
                max_concurrency=rec.max_concurrency,
                budget_usd=rec.budget_usd,
                period=rec.budget_period,
            )
            if any(v is not None for v in (lim.rpm, lim.tpm, lim.max_concurrency, lim.budget_usd)):
                scopes.append(lim)
        caller = Caller(
            key_id=key.id,
            team_id=key.team_id,
            owner=key.owner,
            allowed_models=key.allowed_models,
            metadata=dict(key.metadata),
        )
        return cls(key, team, tuple(scopes), caller)

    def allows(self, model: str) -> bool:
        """Both the key's and the team's lists must allow it (empty = everything; globs allowed)."""
        for models in (self.key.allowed_models, self.team.allowed_models if self.team else ()):
            if models and not any(m == model or fnmatchcase(model, m) for m in models):
                return False
        return True
