"""Split a long text into units that are kept or dropped whole.

Prose is split into sentences; a fenced code block, a JSON value, a table and a list item
are one unit each, so selection never cuts one mid-way. Sentence ends are not placed after
initials, common abbreviations or inside numbers (``3.5``, ``U.S.``), so numbers and
named entities stay in one piece.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["prose", "code", "json", "table", "item"]


@dataclass(slots=True, frozen=True)
class Segment:
    """``text`` is ``source[start:end]``; ``kind`` says why it is atomic."""

    text: str
    start: int
    end: int
    kind: Kind


_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.S | re.M)
_BLANK = re.compile(r"\n[ \t]*\n")
_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$|^[^\t\n]*\t[^\t\n]*\t")
_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
# A candidate sentence end: ., ! or ? (with closing quotes/brackets) followed by space.
_END = re.compile(r"[.!?][\"')\]]*\s+")
_ABBREV = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "sr",
        "jr",
        "vs",
        "etc",
        "eg",
        "ie",
        "inc",
        "ltd",
        "co",
        "corp",
        "no",
        "fig",
        "al",
        "approx",
        "dept",
        "est",
        "gen",
        "gov",
        "lt",
        "col",
        "sgt",
        "capt",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mt",
        "ft",
    }
)


def split(text: str) -> list[Segment]:
    """Units of ``text`` in order; joined with the gaps between them they rebuild ``text``."""
    out: list[Segment] = []
    pos = 0
    for m in _FENCE.finditer(text):
        _split_blocks(text, pos, m.start(), out)
        out.append(Segment(m.group(0), m.start(), m.end(), "code"))
        pos = m.end()
    _split_blocks(text, pos, len(text), out)
    return out


def _split_blocks(text: str, start: int, end: int, out: list[Segment]) -> None:
    """Blank-line separated blocks: JSON, tables and lists whole or by item, prose by sentence."""
    pos = start
    for gap in _BLANK.finditer(text, start, end):
        _block(text, pos, gap.start(), out)
        pos = gap.end()
    _block(text, pos, end, out)


def _block(text: str, start: int, end: int, out: list[Segment]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return
    block = text[start:end]
    if block[0] in "[{" and _is_json(block):
        out.append(Segment(block, start, end, "json"))
        return
    lines = block.split("\n")
    if len(lines) >= 2 and sum(bool(_TABLE_LINE.match(line)) for line in lines) >= len(lines) - 1:
        out.append(Segment(block, start, end, "table"))
        return
    if any(_ITEM.match(line) for line in lines):
        _lines(text, start, lines, out)
        return
    _sentences(text, start, end, out)


def _is_json(block: str) -> bool:
    try:
        json.loads(block)
    except ValueError:
        return False
    return True


def _lines(text: str, start: int, lines: list[str], out: list[Segment]) -> None:
    """A list: each item (with its continuation lines) is one unit; other lines by sentence."""
    pos = start
    item_start: int | None = None
    for line in lines:
        line_end = pos + len(line)
        if _ITEM.match(line):
            if item_start is not None:
                _emit(text, item_start, pos - 1, "item", out)
            item_start = pos
        elif item_start is None:
            _sentences(text, pos, line_end, out)
        pos = line_end + 1
    if item_start is not None:
        _emit(text, item_start, pos - 1, "item", out)


def _emit(text: str, start: int, end: int, kind: Kind, out: list[Segment]) -> None:
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Segment(text[start:end], start, end, kind))


def _sentences(text: str, start: int, end: int, out: list[Segment]) -> None:
    pos = start
    for m in _END.finditer(text, start, end):
        if _is_sentence_end(text, m.start(), m.end(), end):
            _emit(text, pos, m.end(), "prose", out)
            pos = m.end()
    _emit(text, pos, end, "prose", out)


def _is_sentence_end(text: str, dot: int, after: int, end: int) -> bool:
    if after >= end:
        return False
    nxt = text[after]
    if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'([“‘"):
        return False
    if text[dot] != ".":
        return True
    word_start = dot
    while word_start > 0 and (text[word_start - 1].isalnum() or text[word_start - 1] == "."):
        word_start -= 1
    word = text[word_start:dot]
    if len(word) == 1 and word.isupper():  # an initial: "J. Smith"
        return False
    if "." in word:  # "U.S.", "e.g." (but a number such as "2.5" can end a sentence)
        return word.replace(".", "").isdigit()
    return word.lower() not in _ABBREV
