"""The injection guard as a cascade: the fast static-token model (``injection_v5``, ~2 ms,
no transformer) scores every text; only a text it scores at or above the *escalation* cut
pays for the MiniLM pass of the second stage (``injection_v5m``, see
``guards.embedding_classifier``), and its final score combines both (``rule``).

Why: the fast model alone flags about twice as much instruction-shaped benign text as the
MiniLM model; the MiniLM model alone costs 10-20 ms per text. The escalation cut is set so
that 99.5% of the s-labs validation attacks (out-of-fold scores) reach the second stage,
so the fast path only clears text the fast model is confident about; most benign traffic
never escalates. Cuts and rule live in ``data/injection_cascade.json``, written by
``scripts/select_guard_cascade.py`` from s-labs validation and the calibration sources."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from portico.guards.classifier import DATA_DIR, FloatArray

CASCADE_CONFIG = DATA_DIR / "injection_cascade.json"
CONTENT_CASCADE_CONFIG = DATA_DIR / "content_cascade.json"
# The combining rules compared (a small set, chosen between on validation only): the
# second stage's score alone, or the mean of both probabilities.
RULES = ("second", "mean")


def combine(rule: str, fast: Any, second: Any) -> Any:
    """The final score of an escalated text."""
    if rule == "second":
        return second
    if rule == "mean":
        return (np.asarray(fast) + np.asarray(second)) / 2.0
    raise ValueError(f"unknown cascade rule {rule!r}")


class _Cascade:
    """What both cascades share: which texts escalate and how their final score is formed.
    ``escalate`` is one cut (injection) or one per label (content); a text escalates when
    any label's fast score reaches its cut."""

    escalate: Any
    rule: str

    def _set_rule(self, rule: str) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown cascade rule {rule!r}")
        self.rule = rule

    def escalates(self, fast: FloatArray) -> Any:
        """Which rows of ``fast`` (texts x labels) go to the second stage."""
        return (np.asarray(fast) >= self.escalate).any(axis=1)

    def final(self, fast: FloatArray, second: FloatArray) -> FloatArray:
        """The score of an escalated text: the rule applied to the fast and second-stage scores."""
        out: FloatArray = np.asarray(combine(self.rule, fast, second), dtype=np.float32)
        return out


class CascadeConfig(_Cascade):
    """The injection cascade's escalation cut, rule and its own flag / block cuts."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.escalate = float(data["escalate"])
        self._set_rule(str(data["rule"]))
        self.thresholds: dict[str, float] = {k: float(v) for k, v in data["thresholds"].items()}
        self.block_thresholds: dict[str, float] = {k: float(v) for k, v in data["block_thresholds"].items()}
        self.meta = data

    @classmethod
    def load(cls) -> CascadeConfig:
        return cls(json.loads(CASCADE_CONFIG.read_text(encoding="utf-8")))


class ContentCascadeConfig(_Cascade):
    """The content cascade: per-label escalation cuts (a text escalates when *any* label's
    fast score reaches its cut), the rule, and per-label thresholds of the combined score.
    Written by ``scripts/select_content_cascade.py`` from out-of-fold scores of the content
    training corpus (never a test split)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.labels: list[str] = [str(x) for x in data["labels"]]
        self.escalate = np.array([float(data["escalate"][k]) for k in self.labels], dtype=np.float32)
        self._set_rule(str(data["rule"]))
        self.thresholds: dict[str, float] = {k: float(v) for k, v in data["thresholds"].items()}
        self.meta = data

    @classmethod
    def load(cls) -> ContentCascadeConfig:
        return cls(json.loads(CONTENT_CASCADE_CONFIG.read_text(encoding="utf-8")))
