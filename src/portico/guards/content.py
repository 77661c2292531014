"""Content filter: per-category classifier (hate, harassment, self-harm, sexual, violence)
with per-category thresholds. Scores come from the content cascade (``GuardRuntime.content_scores``:
the static-token model, plus the MiniLM model on texts in its uncertain band), compared
with the cascade's thresholds unless the config overrides them."""

from __future__ import annotations

from collections.abc import Sequence

from portico.guards.base import Action, Finding, Verdict
from portico.guards.runtime import GuardRuntime
from portico.pipeline import RequestContext


class ContentGuard:
    def __init__(
        self,
        runtime: GuardRuntime,
        action: Action = Action.BLOCK,
        categories: Sequence[str] | None = None,
        thresholds: dict[str, float] | None = None,
        name: str = "content",
    ) -> None:
        self.name = name
        self.action = action
        self._runtime = runtime
        self._categories = list(categories) if categories is not None else None
        self._thresholds = dict(thresholds or {})

    def scores(self, text: str, ctx: RequestContext | None = None) -> dict[str, float]:
        model = self._runtime.content_model
        row = self._runtime.content_scores(text, ctx)
        wanted = self._categories if self._categories is not None else model.labels
        return {label: float(s) for label, s in zip(model.labels, row, strict=True) if label in wanted}

    async def check(self, text: str, ctx: RequestContext) -> Verdict:
        if not text.strip():
            return Verdict(self.name)
        thresholds = self._runtime.content_cascade.thresholds
        scores = self.scores(text, ctx)
        hits = [
            Finding(label, score=s)
            for label, s in scores.items()
            if s >= self._thresholds.get(label, thresholds[label])
        ]
        verdict = Verdict(self.name, findings=hits, score=max(scores.values(), default=0.0))
        if hits:
            verdict.action = self.action
            verdict.policy = "content:" + ",".join(f.type for f in hits)
        return verdict
