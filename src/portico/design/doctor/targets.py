"""Targets: ``metric: "<op> <number>"`` (the targets.yaml `portico design` writes and
`portico eval --targets` gates on; same grammar: ``%`` suffix, ``{target, critical}``
mappings, the same metric aliases), with the seed's defaults for anything unset."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from portico.errors import InvalidRequest

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
_COND = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(%?)\s*$")
# The seed's performance targets where the user gave none.
DEFAULTS: dict[str, str] = {
    "accuracy": ">= 0.9",
    "error_rate": "<= 0.01",
    "cache_hit_rate": ">= 0.6",
    "groundedness": ">= 0.9",
    "hallucination_rate": "<= 0.05",
    "safety_bypass_rate": "<= 0",
}
ALIASES: dict[str, str] = {
    "p95": "p95_ms",
    "latency_p95": "p95_ms",
    "latency_p95_ms": "p95_ms",
    "cost": "cost_per_1k",
    "cost_per_1k_requests": "cost_per_1k",
    "errors": "error_rate",
    "cache": "cache_hit_rate",
}
# Metrics the eval harness also gates on; the doctor reads the ones it has checks for.
KNOWN = frozenset(
    {
        "accuracy", "accuracy_ci_low", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "ttft_p50_ms", "ttft_p95_ms",
        "cost_per_1k", "tokens_per_request", "error_rate", "cache_hit_rate",
        "groundedness", "hallucination_rate", "safety_bypass_rate",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Condition:
    op: str
    value: float
    critical: Condition | None = None  # an explicit critical level, else the doctor's table
    defaulted: bool = False

    def holds(self, x: float) -> bool:
        slack = 1e-9 * max(1.0, abs(self.value))  # sums of floats: forgive noise at the boundary
        if self.op in ("<=", "<"):
            x -= slack
        elif self.op in (">=", ">"):
            x += slack
        return OPS[self.op](x, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True, slots=True)
class Targets:
    conditions: dict[str, Condition]

    def get(self, metric: str) -> Condition | None:
        return self.conditions.get(metric)


def parse_condition(metric: str, text: Any) -> Condition:
    m = _COND.match(str(text)) if isinstance(text, str) else None
    if m is None:
        raise InvalidRequest(f'targets: \'{metric}: {text!r}\' is not a condition like ">= 0.9" or "<= 1500"')
    return Condition(m.group(1), float(m.group(2)) / (100 if m.group(3) else 1))


def _entry(metric: str, value: Any) -> Condition:
    if isinstance(value, dict):
        if "target" not in value or set(value) - {"target", "critical"}:
            raise InvalidRequest(f'targets: {metric}: use {{target: ">= 0.9", critical: ">= 0.8"}}')
        target = parse_condition(metric, value["target"])
        critical = parse_condition(metric, value["critical"]) if "critical" in value else None
        return Condition(target.op, target.value, critical)
    return parse_condition(metric, value)


def parse_targets(raw: Any, source: str = "<targets>") -> Targets:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{source}: targets must be a mapping of metric -> condition")
    conds = {
        k: Condition(c.op, c.value, None, True) for k, c in ((k, parse_condition(k, v)) for k, v in DEFAULTS.items())
    }
    for name, value in raw.items():
        metric = ALIASES.get(str(name), str(name))
        if metric not in KNOWN:
            raise InvalidRequest(f"{source}: unknown metric {name!r}; known: {', '.join(sorted(KNOWN))}")
        conds[metric] = _entry(metric, value)
    return Targets(conds)


def load_targets(path: str | Path | None) -> Targets:
    if path is None:
        return parse_targets({}, "defaults")
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidRequest(f"targets file {file} does not exist") from None
    except yaml.YAMLError as exc:
        raise InvalidRequest(f"targets file {file} is not valid YAML: {exc}") from None
    return parse_targets(raw, str(file))
