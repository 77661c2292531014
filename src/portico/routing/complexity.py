"""The learned complexity policy: strong model when the complexity score is above a threshold."""

from __future__ import annotations

from portico.pipeline import RequestContext
from portico.routing.complexity_model import ComplexityModel
from portico.routing.features import request_text
from portico.routing.route import Route
from portico.routing.settings import ComplexityRoute, Threshold


def resolve_threshold(t: Threshold, model: ComplexityModel, fast_cost_ratio: float = 0.0) -> float:
    """The score threshold for a target. ``fast_cost_ratio`` = fast / strong cost per call."""
    if t.score is not None:
        return t.score
    if t.strong_share is not None:
        share = t.strong_share
    elif t.quality_floor is not None:
        share = model.share_for_quality(t.quality_floor)
    else:
        assert t.cost_budget is not None  # Threshold validates exactly one target
        r = min(max(fast_cost_ratio, 0.0), 0.999)
        share = min(max((t.cost_budget - r) / (1.0 - r), 0.0), 1.0)
    return model.share_threshold(share)


class ComplexityRouter:
    """Scores the last user message with the complexity model (the one code path for the
    gateway, ``portico router score`` and the evaluation)."""

    def __init__(self, cfg: ComplexityRoute, model: ComplexityModel, *, fast_cost_ratio: float = 0.0) -> None:
        self.cfg = cfg
        self.model = model
        self.threshold = resolve_threshold(cfg.threshold, model, fast_cost_ratio)

    def decide(self, ctx: RequestContext) -> Route:
        score = self.model.score(request_text(ctx.request))
        t, strong, fast = self.threshold, self.cfg.strong, self.cfg.fast
        if score > t:
            return Route(strong, f"complexity score={score:.2f}>{t:.2f} -> {strong}", score)
        return Route(fast, f"complexity score={score:.2f}<={t:.2f} -> {fast}", score)
