"""The measured figures the architect ships are the benchmarks' results as documented: each
value (or point) appears in the document and RESULT line its source names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portico.design.measurements import Measurements, load_measurements

REPO = Path(__file__).resolve().parents[2]
SHIPPED = load_measurements()


def _numbers(text: str) -> set[float]:
    return {float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)}


@pytest.mark.parametrize("key", sorted(SHIPPED.figures))
def test_each_measurement_is_in_the_document_it_cites(key: str) -> None:
    m = SHIPPED.get(key)
    doc = m.source.split()[0]
    assert doc.startswith("docs/") and doc.endswith(".md"), m.source
    text = (REPO / doc).read_text(encoding="utf-8")
    results = " ".join(line for line in text.splitlines() if "RESULT" in line or "|" in line)
    found = _numbers(results)
    wanted = [m.value] if m.value is not None else [y for _, y in m.points if y not in (0.0, 1.0)]
    for v in wanted:
        assert v is not None and any(abs(v - f) < 1e-9 for f in found), f"{key}={v} not in {doc}"


def test_interpolation_is_clamped_and_linear() -> None:
    curve = SHIPPED.get("router_strong_share_curve")
    assert curve.at(-1) == 0.0 and curve.at(2) == 1.0
    assert curve.at(0.5) == pytest.approx(0.267)
    assert curve.at(0.25) == pytest.approx(0.1335)


def test_a_users_file_overrides_by_key(tmp_path: Path) -> None:
    mine = tmp_path / "m.yaml"
    mine.write_text("semantic_cache_recall: {value: 0.4, source: replay}\n")
    merged = load_measurements(mine)
    assert isinstance(merged, Measurements)
    assert merged.v("semantic_cache_recall") == 0.4 and merged.source("semantic_cache_recall") == "replay"
    assert merged.v("embed_p95_ms") == SHIPPED.v("embed_p95_ms")


def test_an_eval_report_gives_the_cache_hit_rate_of_your_traffic(tmp_path: Path) -> None:
    report = tmp_path / "eval.json"
    report.write_text(
        '{"portico_eval_report": 1, "summaries": [{"target": "gw", "rows": 500, "cache_hit_rate": 0.42}]}'
    )
    m = load_measurements(report)
    assert m.v("cache_hit_rate") == 0.42 and "your replay" in m.source("cache_hit_rate")


def test_eval_router_output_gives_your_router_curve(tmp_path: Path) -> None:
    out = tmp_path / "router.txt"
    out.write_text("prices ...\nRESULT mmlu_apgr=0.700 mmlu_cpt50=0.200 mmlu_cpt80=0.500 gsm8k_apgr=0.6\n")
    curve = load_measurements(out).get("router_strong_share_curve")
    assert curve.at(0.5) == pytest.approx(0.2) and curve.at(0.8) == pytest.approx(0.5)
    assert "your router replay" in curve.source


def test_a_replayed_hit_rate_replaces_the_estimate(tmp_path: Path) -> None:
    from portico.design.catalog import load_catalog
    from portico.design.plan import design
    from portico.design.requirements import parse_requirements

    report = tmp_path / "eval.json"
    report.write_text('{"portico_eval_report": 1, "summaries": [{"target": "gw", "rows": 9, "cache_hit_rate": 0.5}]}')
    req = parse_requirements({"traffic": {"repeat_query_share": 0.6}})
    d = design(req, load_catalog(), load_measurements(report))
    assert d.cache.hit_rate == 0.5
    assert any("your replay" in s.source for s in d.steps if s.rule == "OPT-CACHE")
