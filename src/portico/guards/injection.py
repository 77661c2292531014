"""Prompt-injection / jailbreak guard: rules for known shapes, then our classifier."""

from __future__ import annotations

from portico.guards.base import Action, Finding, Verdict
from portico.guards.injection_rules import match_rules
from portico.guards.runtime import GuardRuntime
from portico.pipeline import RequestContext


class InjectionGuard:
    """Blocks (or flags) text that a rule matches or the classifier scores at or above
    ``threshold`` (default: the shipped one, set at <= 1% FPR on validation)."""

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
    def threshold(self) -> float:
        if self._threshold is not None:
            return self._threshold
        return self._runtime.injection_model.thresholds["injection"]

    def score(self, text: str, ctx: RequestContext | None = None) -> float:
        model = self._runtime.injection_model
        return float(model.scores([text], self._runtime.embed(text, ctx))[0, 0])

    async def check(self, text: str, ctx: RequestContext) -> Verdict:
        findings = [Finding("rule:" + r) for r in match_rules(text)] if self._rules else []
        score = self.score(text, ctx) if text.strip() else 0.0
        if score >= self.threshold:
            findings.append(Finding("classifier", score=score))
        verdict = Verdict(self.name, findings=findings, score=score)
        if findings:
            verdict.action = self.action
            verdict.policy = self.name
        return verdict
