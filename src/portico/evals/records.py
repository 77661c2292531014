"""The record of one evaluated row and the state of a run (kept outside the event loop, so an
interrupted run can still be reported)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from portico.evals.scoring.registry import CheckResult


@dataclass(frozen=True)
class Target:
    """A model or a route (a virtual model name in the gateway config), addressed by ``model``."""

    name: str
    kind: str = "model"


@dataclass(frozen=True)
class RowResult:
    target: str
    case_id: str
    line: int
    prompt: str
    expected: tuple[str, ...]
    output: str
    passed: bool
    checks: tuple[CheckResult, ...]
    latency_ms: float
    error: str | None = None
    status: int | None = None
    ttft_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cost_source: str | None = None
    cache: str | None = None
    route: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["expected"] = list(self.expected)
        d["checks"] = [asdict(c) for c in self.checks]
        return d


@dataclass
class RunState:
    """Results as they arrive; complete or not, a report can be written from it."""

    dataset: str
    targets: tuple[Target, ...]
    planned_per_target: int
    results: dict[str, list[RowResult]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def add(self, row: RowResult) -> None:
        self.results.setdefault(row.target, []).append(row)

    def rows(self, target: str) -> list[RowResult]:
        return self.results.get(target, [])

    @property
    def done(self) -> int:
        return sum(len(v) for v in self.results.values())
