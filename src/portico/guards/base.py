"""The Guard seam: ``async check(text, ctx) -> Verdict``.

A guard looks at one text (the prompt on the way in, the answer on the way out) and says
what should happen to it. Findings carry entity types, spans and scores for the caller's
own use; what is recorded on the request (``ctx.findings``) is only types and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from portico.pipeline import RequestContext


class Action(StrEnum):
    """What a guard asks for. ``allow`` is the verdict when nothing was found."""

    ALLOW = "allow"
    FLAG = "flag"
    REDACT = "redact"
    PSEUDONYMIZE = "pseudonymize"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a guard found: a typed span (``start``/``end`` -1 for whole-text findings)."""

    type: str
    start: int = -1
    end: int = -1
    score: float = 1.0


@dataclass(slots=True)
class Verdict:
    """A guard's answer: the action, what it found, its top score and, for redact and
    pseudonymize, the rewritten text."""

    guard: str
    action: Action = Action.ALLOW
    findings: list[Finding] = field(default_factory=list)
    score: float = 0.0
    text: str | None = None
    policy: str = ""

    @property
    def triggered(self) -> bool:
        return self.action is not Action.ALLOW

    def counts(self) -> dict[str, int]:
        """Entity types and how often each was found: safe to log (no raw values)."""
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.type] = out.get(f.type, 0) + 1
        return out


class Guard(Protocol):
    """A check on one text. ``name`` is the policy name a block message reports."""

    name: str

    async def check(self, text: str, ctx: RequestContext) -> Verdict: ...
