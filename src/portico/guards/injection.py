"""Prompt-injection / jailbreak guard: rules for known shapes, then our classifier."""

from __future__ import annotations

from portico.guards.base import Action, Finding, Verdict
from portico.guards.injection_rules import match_rules
from portico.guards.language import uncovered_language
from portico.guards.runtime import GuardRuntime
from portico.pipeline import RequestContext


class InjectionGuard:
    """Two cuts on the cascade's score (``guards.cascade``: the fast model, and MiniLM on
    texts it scores near or above the cuts), both shipped with the cascade: the *flag* cut
    (<= 1% FPR on the injection sets' validation split) and the stricter *block* cut
    (set on benign sources the model never trained on). With ``action=block`` a score at
    or above the block cut blocks and one between the two cuts is flagged (recorded, let
    through); with ``action=flag`` the flag cut flags. A rule match takes ``action``.
    ``threshold`` replaces the cut of the configured action. Text in a language the model
    was not trained on (anything but English, see ``guards.language``) gets an
    ``uncovered_language:<code>`` finding whatever its score, so a low score there is not
    read as "checked and clean"; the cuts still apply."""

    def __init__(
        self,
        runtime: GuardRuntime,
        action: Action = Action.BLOCK,
        threshold: float | None = None,
        rules: bool = True,
        name: str = "prompt_injection",
    ) -> None:
        self.name = name
        self.action = action
        self._runtime = runtime
        self._threshold = threshold
        self._rules = rules

    @property
    def flag_threshold(self) -> float:
        shipped = self._runtime.injection_cascade.thresholds["injection"]
        if self.action is Action.FLAG and self._threshold is not None:
            return self._threshold
        return shipped if self._threshold is None else min(shipped, self._threshold)

    @property
    def threshold(self) -> float:
        """The cut at which ``action`` is taken."""
        if self._threshold is not None:
            return self._threshold
        if self.action is Action.BLOCK:
            return self._runtime.injection_cascade.block_thresholds["injection"]
        return self.flag_threshold

    def score(self, text: str, ctx: RequestContext | None = None) -> float:
        return self._runtime.injection_score(text, ctx)

    async def check(self, text: str, ctx: RequestContext) -> Verdict:
        rules = [Finding("rule:" + r) for r in match_rules(text)] if self._rules else []
        score = self.score(text, ctx) if text.strip() else 0.0
        verdict = Verdict(self.name, findings=list(rules), score=score)
        uncovered = uncovered_language(text)
        if uncovered:
            verdict.findings.append(Finding("uncovered_language:" + uncovered, score=score))
        action = Action.ALLOW
        if rules or score >= self.threshold:
            action = self.action
        elif score >= self.flag_threshold:
            action = Action.FLAG
        if score >= self.flag_threshold:
            verdict.findings.append(Finding("classifier", score=score))
        if action is not Action.ALLOW:
            verdict.action = action
            verdict.policy = self.name
        return verdict
