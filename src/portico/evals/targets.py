"""Targets for CI gating: ``metric: "<op> <number>"`` -> pass / warn / fail.

Each condition is the *target*. The *critical* level follows the seed's table, where the
critical level allows twice the target's shortfall: accuracy target 0.9 -> critical 0.8
(10% -> 20% wrong), P95 latency critical at 2x the requirement, error rate 1% -> 2%, and so
on. A mapping ``{target: ">= 0.9", critical: ">= 0.75"}`` sets the critical level explicitly.

pass: meets the target; warn: misses the target but meets the critical level; fail: misses
the critical level (or the metric was not measured). Any fail makes the run exit 1.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from portico.evals.metrics import Summary

#: metric -> True when it is a rate in [0, 1] (the shortfall of a lower bound is measured from 1).
METRICS: Mapping[str, bool] = {
    "accuracy": True,
    "accuracy_ci_low": True,
    "error_rate": True,
    "cache_hit_rate": True,
    "p50_ms": False,
    "p95_ms": False,
    "p99_ms": False,
    "mean_ms": False,
    "ttft_p50_ms": False,
    "ttft_p95_ms": False,
    "cost_per_1k": False,
    "tokens_per_request": False,
}
ALIASES: Mapping[str, str] = {
    "p50": "p50_ms",
    "p95": "p95_ms",
    "p99": "p99_ms",
    "latency_p95": "p95_ms",
    "latency_p95_ms": "p95_ms",
    "cost": "cost_per_1k",
    "cost_per_1k_requests": "cost_per_1k",
    "errors": "error_rate",
    "cache": "cache_hit_rate",
    "ttft_p95": "ttft_p95_ms",
}
_OPS: Mapping[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_COND = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(%?)\s*$")


class TargetsError(ValueError):
    """A targets file the user must fix (exit code 2)."""


@dataclass(frozen=True)
class Condition:
    op: str
    threshold: float

    def holds(self, value: float) -> bool:
        # Figures are sums of floats: forgive rounding noise at the boundary (1.0000000002 <= 1).
        slack = 1e-9 * max(1.0, abs(self.threshold))
        if self.op in ("<=", "<"):
            value -= slack
        elif self.op in (">=", ">"):
            value += slack
        else:
            return abs(value - self.threshold) <= slack
        return _OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclass(frozen=True)
class TargetSpec:
    metric: str
    target: Condition
    critical: Condition


@dataclass(frozen=True)
class Verdict:
    target: str
    metric: str
    value: float | None
    condition: str
    critical: str
    status: str  # pass | warn | fail

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "metric": self.metric,
            "value": self.value,
            "condition": self.condition,
            "critical": self.critical,
            "status": self.status,
        }


def parse_condition(metric: str, text: Any) -> Condition:
    if not isinstance(text, str):
        raise TargetsError(f'{metric}: condition must be a string like ">= 0.9", got {text!r}')
    m = _COND.match(text)
    if not m:
        raise TargetsError(f'{metric}: malformed condition {text!r}; write e.g. ">= 0.9" or "<= 2000"')
    value = float(m.group(2)) / (100 if m.group(3) else 1)
    return Condition(op=m.group(1), threshold=value)


def derive_critical(metric: str, target: Condition) -> Condition:
    """Twice the allowed shortfall (see module docstring)."""
    t = target.threshold
    if target.op in ("<=", "<"):
        return Condition(target.op, 2 * t if t > 0 else t)
    if target.op in (">=", ">"):
        if METRICS[metric]:
            # A share: twice the shortfall from 1 (0.9 -> 0.8); where that reaches 0 or below,
            # half the target instead, so low targets keep a critical level that can fail.
            return Condition(target.op, min(t, 2 * t - 1 if 2 * t - 1 > 0 else t / 2))
        return Condition(target.op, t / 2 if t > 0 else t)
    return target


def canonical_metric(name: str) -> str:
    key = ALIASES.get(name, name)
    if key not in METRICS:
        raise TargetsError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
    return key


def parse_targets(raw: Any) -> list[TargetSpec]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise TargetsError("the targets file must map metric names to conditions")
    out: list[TargetSpec] = []
    for name, value in raw.items():
        metric = canonical_metric(str(name))
        if isinstance(value, dict):
            unknown = set(value) - {"target", "critical"}
            if unknown or "target" not in value:
                raise TargetsError(f'{name}: use {{target: ">= 0.9", critical: ">= 0.8"}}')
            target = parse_condition(metric, value["target"])
            critical = (
                parse_condition(metric, value["critical"]) if "critical" in value else derive_critical(metric, target)
            )
        else:
            target = parse_condition(metric, value)
            critical = derive_critical(metric, target)
        out.append(TargetSpec(metric=metric, target=target, critical=critical))
    return out


def load_targets(path: Path) -> list[TargetSpec]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetsError(f"cannot read targets file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise TargetsError(f"targets file {path} is not valid YAML: {exc}") from exc
    return parse_targets(raw)


def judge(specs: Sequence[TargetSpec], summaries: Sequence[Summary]) -> list[Verdict]:
    out: list[Verdict] = []
    for s in summaries:
        for spec in specs:
            value = s.metric(spec.metric)
            if value is None:
                status = "fail"
            elif spec.target.holds(value):
                status = "pass"
            elif spec.critical.holds(value):
                status = "warn"
            else:
                status = "fail"
            out.append(Verdict(s.target, spec.metric, value, str(spec.target), str(spec.critical), status))
    return out
