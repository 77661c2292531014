"""Read an eval report: a flat ``{"accuracy": .., "p95_ms": ..}`` dict,
``{"results": [{"model": .., "metrics": {..}}]}``, or the `portico eval` report
(``{"summaries": [{"target": .., "accuracy": .., ...}]}``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class EvalResult:
    model: str
    metrics: dict[str, float]


def _numbers(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{where}: metrics must be an object")
    return {k: float(v) for k, v in raw.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def parse_eval_report(raw: Any, source: str = "<report>") -> list[EvalResult]:
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{source}: an eval report must be a JSON object")
    summaries = raw.get("summaries")
    if isinstance(summaries, list):
        return [
            EvalResult(str(row.get("target", f"summary {i}")), _numbers(row, f"{source}: summaries[{i}]"))
            for i, row in enumerate(summaries)
            if isinstance(row, dict)
        ]
    results = raw.get("results")
    if isinstance(results, list):
        out = []
        for i, row in enumerate(results):
            if not isinstance(row, dict):
                raise InvalidRequest(f"{source}: results[{i}] must be an object")
            name = str(row.get("model") or row.get("route") or f"result {i}")
            out.append(EvalResult(name, _numbers(row.get("metrics", {}), f"{source}: results[{i}]")))
        return out
    return [EvalResult(str(raw.get("model", "report")), _numbers(raw, source))]


def load_eval_report(path: str | Path) -> list[EvalResult]:
    file = Path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidRequest(f"eval report {file} does not exist") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"eval report {file} is not JSON: {exc}") from None
    return parse_eval_report(raw, str(file))
