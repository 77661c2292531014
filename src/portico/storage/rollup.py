"""The per-day spend rollup: how inserted request rows add up, and which time ranges read it.

A spend report over [since, until) reads whole UTC days from ``portico_spend_daily`` (a few
rows per key, team and model and day) and only the partial days at either edge from the
request rows, so its cost follows the number of days, not the number of requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DAY = 86400.0


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def day_start(ts: float) -> float:
    return ts - ts % DAY  # unix time has no leap seconds: UTC days are exact multiples


def aggregate(rows: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """Sum billable request rows into rollup rows, sorted by primary key (so concurrent
    writers lock rows in one order and cannot deadlock)."""
    sums: dict[tuple[str, str, str, str], list[float]] = {}
    for r in rows:
        if not r["billable"]:
            continue
        k = (day_of(r["ts"]), r["key_id"] or "", r["team_id"] or "", r["model_served"])
        acc = sums.setdefault(k, [0, 0, 0, 0.0])
        acc[0] += 1
        acc[1] += r["prompt_tokens"]
        acc[2] += r["completion_tokens"]
        acc[3] += r["cost_usd"]
    return [
        {
            "day": k[0],
            "key_id": k[1],
            "team_id": k[2],
            "model": k[3],
            "requests": int(v[0]),
            "prompt_tokens": int(v[1]),
            "completion_tokens": int(v[2]),
            "cost_usd": float(v[3]),
        }
        for k, v in sorted(sums.items())
    ]


@dataclass(frozen=True, slots=True)
class Plan:
    """Where a [since, until) report reads: whole days from the rollup, edges from requests."""

    first_day: str | None  # rollup days >= this (None: from the beginning)
    end_day: str | None  # rollup days < this (None: up to today, included)
    edges: tuple[tuple[float | None, float | None], ...]  # raw [lo, hi) ranges, each within one day
    use_rollup: bool = True


def plan(since: float | None, until: float | None) -> Plan:
    if since is not None and until is not None and until <= since:
        return Plan(None, None, (), use_rollup=False)
    first = None if since is None else day_start(since) + (DAY if since % DAY else 0.0)
    end = None if until is None else day_start(until)
    if first is not None and end is not None and end <= first:
        # since and until fall within one day or two adjacent partial days: no whole day
        assert since is not None and until is not None
        cut = day_start(since) + DAY
        parts = ((since, cut), (cut, until)) if cut < until else ((since, until),)
        return Plan(None, None, parts, use_rollup=False)
    edges: list[tuple[float | None, float | None]] = []
    if since is not None and first is not None and since < first:
        edges.append((since, first))
    if until is not None and end is not None and end < until:
        edges.append((end, until))
    return Plan(
        None if first is None else day_of(first),
        None if end is None else day_of(end),
        tuple(edges),
    )
