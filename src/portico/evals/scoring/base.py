"""The scorer seam: ``async score(output, assertion, case) -> Score``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from portico.evals.dataset import Assertion, EvalCase


@dataclass(frozen=True)
class Score:
    """A verdict on one reply: ``passed`` decides accuracy, ``value`` in [0, 1] is kept for detail."""

    passed: bool
    value: float
    reason: str = ""

    @classmethod
    def of(cls, passed: bool, reason: str = "") -> Score:
        return cls(passed=passed, value=1.0 if passed else 0.0, reason=reason)


class Scorer(Protocol):
    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score: ...


def references(assertion: Assertion, case: EvalCase) -> list[str]:
    """What to compare with: the assertion's ``value`` (string or list) or the row's expected answers."""
    value = assertion.value
    if value is None:
        return list(case.expected)
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]
