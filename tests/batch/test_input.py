"""Input-file validation: each file-level problem is named with its line."""

from __future__ import annotations

import json
from typing import Any

from portico.batch.input import MAX_ERRORS, parse_input

URL = "/v1/chat/completions"


def line(i: int, **extra: Any) -> str:
    row = {"custom_id": f"r{i}", "method": "POST", "url": URL, "body": {"model": "m", "messages": []}}
    row.update(extra)
    return json.dumps(row)


def codes(data: str, **kw: int) -> list[tuple[str, int | None]]:
    parsed = parse_input(data.encode(), URL, max_lines=kw.get("max_lines", 100), max_bytes=kw.get("max_bytes", 10**6))
    return [(e["code"], e["line"]) for e in parsed.errors]


def test_valid_file_keeps_line_numbers_model_and_skips_blank_lines() -> None:
    parsed = parse_input(f"{line(1)}\n\n{line(2)}\n".encode(), URL, max_lines=10, max_bytes=10**6)
    assert parsed.errors == [] and parsed.model == "m"
    assert [(ln.line_no, ln.custom_id) for ln in parsed.lines] == [(1, "r1"), (3, "r2")]
    assert json.loads(parsed.lines[0].body) == {"model": "m", "messages": []}


def test_method_body_and_type_errors() -> None:
    data = "\n".join([line(1, method="GET"), line(2, body="text"), "[1, 2]", line(4, custom_id=""), line(5)])
    assert codes(data) == [("invalid_method", 1), ("invalid_body", 2), ("invalid_request", 3), ("missing_custom_id", 4)]


def test_size_limits_and_empty_file() -> None:
    assert codes("\n".join(line(i) for i in range(5)), max_lines=3) == [("too_many_requests", 4)]
    assert codes(line(1), max_bytes=10) == [("file_too_large", None)]
    assert codes("\n\n") == [("empty_file", None)]


def test_errors_are_capped() -> None:
    data = "\n".join("{bad" for _ in range(MAX_ERRORS + 50))
    assert len(codes(data, max_lines=10_000)) == MAX_ERRORS
