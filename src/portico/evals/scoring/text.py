"""Text scorers: exact, normalised exact, contains, regex, numeric, multiple-choice letter."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.scoring.base import Score, references

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")
_FINAL_MARK = re.compile(r"(?:####|answer is|answer:)\s*\$?\s*(-?[\d.,]*\d)", re.IGNORECASE)


def normalise(text: str) -> str:
    """SQuAD-style: lower case, no punctuation, no articles, single spaces."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCT))
    return " ".join(text.split())


class _SyncScorer:
    """Adapts a plain ``(output, references, assertion) -> Score`` function to the async seam."""

    def __init__(self, fn: Callable[[str, list[str], Assertion], Score]) -> None:
        self._fn = fn

    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score:
        refs = references(assertion, case)
        if not refs:
            return Score.of(False, "no expected value for this check")
        return self._fn(output, refs, assertion)


def _exact(output: str, refs: list[str], a: Assertion) -> Score:
    got = output.strip()
    return Score.of(any(got == r.strip() for r in refs), f"got {got[:60]!r}")


def _normalised(output: str, refs: list[str], a: Assertion) -> Score:
    got = normalise(output)
    return Score.of(any(got == normalise(r) for r in refs), f"normalised {got[:60]!r}")


def _contains(output: str, refs: list[str], a: Assertion) -> Score:
    """Case-insensitive; word boundaries where the reference starts/ends with a word character,
    so that "4" is not found in "14"."""
    hay = " ".join(output.lower().split())
    for ref in refs:
        needle = " ".join(ref.lower().split())
        if not needle:
            continue
        left = r"(?<!\w)" if needle[0].isalnum() else ""
        right = r"(?!\w)" if needle[-1].isalnum() else ""
        if re.search(left + re.escape(needle) + right, hay):
            return Score.of(True, f"found {ref!r}")
    return Score.of(False, f"none of {refs[:3]!r} in reply")


def _regex(output: str, refs: list[str], a: Assertion) -> Score:
    flags = re.IGNORECASE if a.options.get("ignore_case") else 0
    for pattern in refs:
        try:
            if re.search(pattern, output, flags):
                return Score.of(True, f"matched /{pattern}/")
        except re.error as exc:
            return Score.of(False, f"bad pattern /{pattern}/: {exc}")
    return Score.of(False, "no pattern matched")


def _to_float(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("$", "").rstrip("."))
    except ValueError:
        return None


def extract_number(output: str) -> float | None:
    """The reply's answer number: after '####' / 'answer is' if present, else the last number."""
    marked = _FINAL_MARK.findall(output)
    for cand in reversed(marked):
        value = _to_float(cand)
        if value is not None:
            return value
    numbers = _NUMBER.findall(output)
    for cand in reversed(numbers):
        value = _to_float(cand)
        if value is not None:
            return value
    return None


def _numeric(output: str, refs: list[str], a: Assertion) -> Score:
    got = extract_number(output)
    if got is None:
        return Score.of(False, "no number in reply")
    abs_tol = float(a.options.get("tolerance", 1e-6))
    rel_tol = float(a.options.get("rel_tolerance", 0.0))
    for ref in refs:
        want = _to_float(ref)
        if want is not None and math.isclose(got, want, rel_tol=rel_tol, abs_tol=abs_tol):
            return Score.of(True, f"{got:g} == {want:g}")
    return Score.of(False, f"got {got:g}, want {refs[0]!r}")


_LETTER_PATTERNS = (
    re.compile(r"(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-J])\b\)?", re.IGNORECASE),
    re.compile(r"^\s*\(?([A-J])[).:\s]", re.MULTILINE),
    re.compile(r"\(([A-J])\)"),
    re.compile(r"^\s*([A-J])\s*$"),
)


def extract_choice(output: str) -> str | None:
    """The multiple-choice letter in a reply ("B", "(B)", "Answer: B", "B. Paris")."""
    for pattern in _LETTER_PATTERNS:
        m = pattern.search(output.strip())
        if m:
            return m.group(1).upper()
    return None


def _choice(output: str, refs: list[str], a: Assertion) -> Score:
    got = extract_choice(output)
    if got is None:
        return Score.of(False, "no choice letter in reply")
    want = {r.strip().strip("()").upper()[:1] for r in refs}
    return Score.of(got in want, f"chose {got}")


def exact() -> _SyncScorer:
    return _SyncScorer(_exact)


def normalised_exact() -> _SyncScorer:
    return _SyncScorer(_normalised)


def contains() -> _SyncScorer:
    return _SyncScorer(_contains)


def regex() -> _SyncScorer:
    return _SyncScorer(_regex)


def numeric() -> _SyncScorer:
    return _SyncScorer(_numeric)


def choice() -> _SyncScorer:
    return _SyncScorer(_choice)
