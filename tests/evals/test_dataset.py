from __future__ import annotations

from pathlib import Path

import pytest

from portico.evals.dataset import load_dataset

GOOD_AND_BAD = """\
{"messages": [{"role": "user", "content": "Capital of France?"}], "ideal": "Paris", "metadata": {"k": 1}}
{"prompt": "2+2?", "expected": ["4", "four"]}
this is not json
{"prompt": "no answer here"}

{"messages": "not a list", "expected": "x"}
{"prompt": "checked by asserts", "assert": [{"type": "regex", "value": "^ok"}]}
{"prompt": "bad assert", "assert": [{"value": "x"}]}
[1, 2]
{"prompt": 3, "expected": 7}
"""


def test_jsonl_rows_and_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(GOOD_AND_BAD)
    ds = load_dataset(path)
    assert [c.line for c in ds.cases] == [1, 2, 7]
    first, second, third = ds.cases
    assert first.expected == ("Paris",) and first.metadata == {"k": 1} and first.prompt == "Capital of France?"
    assert second.expected == ("4", "four") and second.messages == ({"role": "user", "content": "2+2?"},)
    assert third.asserts[0].type == "regex" and third.asserts[0].value == "^ok"
    problems = {p.line: p.message for p in ds.problems}
    assert sorted(problems) == [3, 4, 6, 8, 9, 10]
    assert "invalid JSON" in problems[3]
    assert "no expected answer" in problems[4]
    assert "'messages' must be a non-empty list" in problems[6]
    assert "assert[0] needs a 'type'" in problems[8]
    assert "expected a JSON object" in problems[9]
    assert "'prompt'" in problems[10]
    assert str(ds.problems[0]).startswith("line 3:")


def test_limit_counts_good_rows(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(GOOD_AND_BAD)
    assert len(load_dataset(path, limit=2).cases) == 2


def test_csv_loader(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "question,answer,topic,assert\n"
        '"What is 6 x 7?",42,maths,\n'
        '"Multi\nline prompt",yes,misc,"[{""type"": ""contains"", ""value"": ""yes""}]"\n'
        '"broken assert",x,misc,"[not json"\n'
        ",orphan,misc,\n"
    )
    ds = load_dataset(path)
    assert [c.prompt for c in ds.cases] == ["What is 6 x 7?", "Multi\nline prompt"]
    assert ds.cases[0].expected == ("42",) and ds.cases[0].metadata == {"topic": "maths"}
    assert ds.cases[1].asserts[0].type == "contains"
    assert [p.line for p in ds.problems] == [5, 6]
    assert "assert" in ds.problems[0].message and "prompt" in ds.problems[1].message


def test_shipped_samples_load_cleanly() -> None:
    data = Path(__file__).parents[2] / "src" / "portico" / "evals" / "data"
    for name in ("arithmetic.jsonl", "capitals.jsonl", "json_extraction.jsonl"):
        ds = load_dataset(data / name)
        assert len(ds.cases) >= 10 and not ds.problems, name


def test_sample_prefix_names_shipped_datasets() -> None:
    assert len(load_dataset(Path("sample:capitals")).cases) == 20
    with pytest.raises(FileNotFoundError, match="arithmetic, capitals, json_extraction"):
        load_dataset(Path("sample:nope"))
