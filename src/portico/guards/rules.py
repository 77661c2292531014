"""Configured validators: a regular expression that must not match, a length limit."""

from __future__ import annotations

import re

from portico.guards.base import Action, Finding, Verdict
from portico.pipeline import RequestContext


class RegexGuard:
    def __init__(self, pattern: str, action: Action = Action.BLOCK, name: str = "regex") -> None:
        self.name = name
        self.action = action
        self._regex = re.compile(pattern)

    async def check(self, text: str, ctx: RequestContext) -> Verdict:
        spans = [(m.start(), m.end()) for m in self._regex.finditer(text) if m.end() > m.start()]
        verdict = Verdict(self.name, findings=[Finding(self.name, s, e) for s, e in spans])
        if spans:
            verdict.action = self.action
            verdict.policy = self.name
            verdict.score = 1.0
            if self.action is Action.REDACT:
                verdict.text = self._regex.sub("<REDACTED>", text)
        return verdict


class LengthGuard:
    def __init__(self, max_chars: int, action: Action = Action.BLOCK, name: str = "length") -> None:
        self.name = name
        self.action = action
        self.max_chars = max_chars

    async def check(self, text: str, ctx: RequestContext) -> Verdict:
        if len(text) <= self.max_chars:
            return Verdict(self.name)
        return Verdict(self.name, action=self.action, findings=[Finding("too_long")], score=1.0, policy=self.name)
