"""The report document (one dict, the JSON file's content) and where it is written."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico.evals.metrics import Summary, summarise
from portico.evals.records import RunState
from portico.evals.targets import Verdict

REPORT_VERSION = 1


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    html: Path


def summaries_of(state: RunState) -> list[Summary]:
    return [summarise(t.name, t.kind, state.rows(t.name), state.planned_per_target) for t in state.targets]


def gate_status(verdicts: Sequence[Verdict]) -> str:
    if not verdicts:
        return "none"
    statuses = {v.status for v in verdicts}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


def build_report(
    state: RunState,
    summaries: Sequence[Summary],
    verdicts: Sequence[Verdict],
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    finished = state.finished_at or time.time()
    rows = [r.as_dict() for t in state.targets for r in sorted(state.rows(t.name), key=lambda r: r.line)]
    return {
        "portico_eval_report": REPORT_VERSION,
        "dataset": state.dataset,
        "started_at": _iso(state.started_at),
        "finished_at": _iso(finished),
        "duration_s": round(finished - state.started_at, 3),
        "interrupted": state.interrupted,
        "complete": not state.interrupted and all(s.rows == s.planned for s in summaries),
        "planned_rows_per_target": state.planned_per_target,
        "dataset_problems": list(state.problems),
        "settings": dict(settings),
        "summaries": [s.as_dict() for s in summaries],
        "targets": [v.as_dict() for v in verdicts],
        "gate": gate_status(verdicts),
        "rows": rows,
    }


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def write_reports(report: Mapping[str, Any], out_dir: Path, html: str) -> ReportFiles:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = f"eval-{_slug(str(report['dataset']))}-{stamp}"
    json_path = out_dir / f"{base}.json"
    html_path = out_dir / f"{base}.html"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    return ReportFiles(json=json_path, html=html_path)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:60] or "dataset"
