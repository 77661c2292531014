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
