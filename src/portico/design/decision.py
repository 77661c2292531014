"""A decision: what was chosen, by which rule, because of which numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Number = float | int | str | bool | None


@dataclass(frozen=True, slots=True)
class Decision:
    rule: str  # stable id, e.g. "CUST-RAG"; tests and docs refer to it
    topic: str  # approach | model | cost | capacity | safety | budget | latency
    choice: str
    reason: str
    numbers: dict[str, Number] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "topic": self.topic,
            "choice": self.choice,
            "reason": self.reason,
            "numbers": dict(self.numbers),
        }


def r(x: float, places: int = 2) -> float:
    """Round for display and JSON, so outputs are stable across platforms."""
    return round(float(x), places)
