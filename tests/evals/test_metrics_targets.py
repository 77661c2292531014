from __future__ import annotations

import pytest

from portico.evals.metrics import percentile, summarise, wilson_interval
from portico.evals.records import RowResult
from portico.evals.targets import TargetsError, judge, parse_targets


def row(
    passed: bool,
    ms: float,
    *,
    error: str | None = None,
    cost: float | None = 0.001,
    cache: str | None = "miss",
    tokens: tuple[int, int] = (10, 5),
) -> RowResult:
    return RowResult(
        target="m",
        case_id="c",
        line=1,
        prompt="p",
        expected=("x",),
        output="x",
        passed=passed,
        checks=(),
        latency_ms=ms,
        error=error,
        cost_usd=cost,
        cost_source="header" if cost is not None else None,
        cache=cache,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
    )


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(81, 100)
    assert lo == pytest.approx(0.7222, abs=1e-3) and hi == pytest.approx(0.8749, abs=1e-3)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_percentiles() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([], 95) is None


def test_summary_counts_errors_cache_cost_tokens() -> None:
    rows = [
        row(True, 100, cache="exact", cost=0.0),
        row(True, 200, cache="semantic; similarity=0.93", cost=0.0),
        row(False, 300, cost=0.004),
        row(False, 5, error="HTTP 500: boom", cost=None, cache=None, tokens=(0, 0)),
    ]
    s = summarise("m", "model", rows, planned=5)
    assert (s.rows, s.planned, s.correct, s.errors) == (4, 5, 2, 1)
    assert s.accuracy == 0.5 and s.error_rate == 0.25
    assert s.p50_ms == pytest.approx(200)  # the failed request's 5 ms is not a latency sample
    assert s.cache_hits == 2 and s.cache_hit_rate == pytest.approx(2 / 3)
    assert s.cost_per_1k == pytest.approx(0.004 / 3 * 1000)
    assert s.prompt_tokens == 30 and s.tokens_per_request == pytest.approx(45 / 4)


def test_seed_levels_derive_critical() -> None:
    specs = {
        s.metric: s
        for s in parse_targets(
            {
                "accuracy": ">= 0.9",
                "p95_ms": "<= 2000",
                "error_rate": "<= 1%",
                "cache_hit_rate": ">= 0.6",
                "cost_per_1k": "< 2.5",
            }
        )
    }
    assert specs["accuracy"].critical.threshold == pytest.approx(0.8)
    assert specs["p95_ms"].critical.threshold == 4000
    assert specs["error_rate"].target.threshold == pytest.approx(0.01)
    assert specs["error_rate"].critical.threshold == pytest.approx(0.02)
    assert specs["cache_hit_rate"].critical.threshold == pytest.approx(0.2)
    assert specs["cost_per_1k"].critical.threshold == 5.0


def test_pass_warn_fail() -> None:
    specs = parse_targets({"accuracy": ">= 0.9", "p95": "<= 100", "cost": {"target": "<= 1", "critical": "<= 1.5"}})

    def verdicts(acc_pass: int, ms: float, cost: float) -> dict[str, str]:
        rows = [row(i < acc_pass, ms, cost=cost / 1000) for i in range(10)]
        return {v.metric: v.status for v in judge(specs, [summarise("m", "model", rows, 10)])}

    assert verdicts(9, 90, 1.0) == {"accuracy": "pass", "p95_ms": "pass", "cost_per_1k": "pass"}
    assert verdicts(8, 150, 1.2) == {"accuracy": "warn", "p95_ms": "warn", "cost_per_1k": "warn"}
    assert verdicts(7, 250, 2.0) == {"accuracy": "fail", "p95_ms": "fail", "cost_per_1k": "fail"}


def test_impossible_target_and_unmeasured_metric_fail() -> None:
    rows = [row(True, 10, cache=None) for _ in range(4)]
    out = judge(parse_targets({"accuracy": ">= 1.01", "cache_hit_rate": ">= 0.5"}), [summarise("m", "model", rows, 4)])
    assert [v.status for v in out] == ["fail", "fail"]
    assert out[1].value is None


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"acuracy": ">= 0.9"}, "unknown metric"),
        ({"accuracy": "at least 0.9"}, "malformed condition"),
        ({"accuracy": 0.9}, "must be a string"),
        ({"accuracy": {"goal": ">= 0.9"}}, "target"),
        (["accuracy"], "must map"),
    ],
)
def test_bad_targets_are_usage_errors(raw: object, message: str) -> None:
    with pytest.raises(TargetsError, match=message):
        parse_targets(raw)


def test_low_share_targets_keep_a_critical_level_that_can_fail() -> None:
    (spec,) = parse_targets({"cache_hit_rate": ">= 0.2"})
    assert spec.critical.threshold == pytest.approx(0.1)
