"""The splitter keeps code, JSON, tables, list items, numbers and names in one unit each."""

from __future__ import annotations

import itertools
import json

from portico.compress.segment import split


def texts(text: str) -> list[str]:
    return [u.text for u in split(text)]


def test_units_cover_the_text_and_only_whitespace_lies_between() -> None:
    text = "First sentence here. Second one follows!\n\nA new paragraph? Yes.\n"
    units = split(text)
    assert [u.text for u in units] == ["First sentence here.", "Second one follows!", "A new paragraph?", "Yes."]
    for a, b in itertools.pairwise(units):
        assert text[a.end : b.start].isspace()
    assert all(text[u.start : u.end] == u.text for u in units)


def test_numbers_initials_and_abbreviations_do_not_end_sentences() -> None:
    text = (
        "Revenue was $1,234.56 in Q3. Pi is about 3.14159 and e is 2.71828. "
        "The U.S. Army hired J. R. Smith on Jan. 5. Dr. Who met Mr. Smith, e.g. at 10 a.m. today."
    )
    assert texts(text) == [
        "Revenue was $1,234.56 in Q3.",
        "Pi is about 3.14159 and e is 2.71828.",
        "The U.S. Army hired J. R. Smith on Jan. 5.",
        "Dr. Who met Mr. Smith, e.g. at 10 a.m. today.",
    ]


def test_code_block_is_one_unit_even_with_blank_lines_and_periods() -> None:
    code = "```python\ndef f(x):\n    return x.y()\n\n\nprint(f(1). real)\n```"
    units = split(f"Intro text. More text.\n\n{code}\n\nAfter it.")
    assert [u.kind for u in units] == ["prose", "prose", "code", "prose"]
    assert units[2].text == code


def test_json_and_tables_are_whole_units() -> None:
    doc = {"name": "Ada", "born": 1815, "notes": "First. Programmer. Ever."}
    blob = json.dumps(doc, indent=2)
    table = "| year | value |\n|---|---|\n| 1815 | 1.5 |\n| 1852 | 2.5 |"
    units = split(f"Before.\n\n{blob}\n\n{table}\n\nAfter.")
    assert [u.kind for u in units] == ["prose", "json", "table", "prose"]
    assert json.loads(units[1].text) == doc
    assert units[2].text == table


def test_list_items_are_units() -> None:
    units = split("Steps:\n- open the lid. Then wait.\n- close it\n1. count to 3.5 twice")
    assert [u.kind for u in units] == ["prose", "item", "item", "item"]
    assert units[1].text == "- open the lid. Then wait."
