"""Cheap text features that, beside the MiniLM embedding, describe how hard a prompt is.

The same function serves training, ``portico router score`` and the gateway, so the model
always sees features computed one way.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import numpy.typing as npt

from portico.types import ChatRequest

FEATURE_NAMES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "log_lines",
    "digit_frac",
    "log_numbers",
    "math_symbols",
    "questions",
    "negation",
    "statements",
    "options",
    "upper_frac",
    "mean_word_len",
    "code",
    "log_max_number",
    # multiple-choice shape (zero for prompts without option lines)
    "log_stem_words",
    "log_option_chars",
    "option_len_spread",
    "numeric_options",
    "all_none_above",
    "both_neither",
    "true_false_options",
    "stem_asks",
    "stem_blank",
    "which_following",
    "best_most",
    "compute_cue",
    "roman_items",
    "scenario",
    "year",
    "option_vocab_ratio",
    # word-problem shape
    "sentences",
    "fraction_words",
    "percent",
    "non_integers",
    "large_numbers",
    "distinct_numbers",
    "time_units",
    "rate_words",
    "comparisons",
    "remainder_words",
    "sequence_words",
    "number_words",
    "names",
    "aggregate_words",
    "commerce_words",
    "commas",
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MATH = re.compile(r"[=+*/^%$\\<>]|\bsqrt\b|\bfrac\b")
_NEGATION = re.compile(r"\b(?:NOT|EXCEPT|LEAST|FALSE|INCORRECT|never)\b")
_STATEMENT = re.compile(r"Statement \d", re.IGNORECASE)
_OPTION = re.compile(r"^\s*\(?[A-H][.)]\s", re.MULTILINE)
_CODE = re.compile(r"```|\bdef \w+\(|\breturn\b|[{};]\s*$", re.MULTILINE)
_OPTION_LINE = re.compile(r"^\s*\(?[A-H][.)][ \t]?(.*)$", re.MULTILINE)
_NUMERIC_OPTION = re.compile(r"^[\s$€£-]*\d[\d,./\s%^*eE+-]*[^\W\d_°/² ]{0,12}$")
_ALL_NONE = re.compile(r"\b(?:all|none) of the (?:above|these)\b")
_COMPUTE = re.compile(r"\bhow (?:many|much)\b|\bwhat is the value\b")
_WHICH_FOLLOWING = re.compile(r"\bwhich of the following\b")
_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_TOKEN = re.compile(r"\w+")
_FRACTION_DIGITS = re.compile(r"\d/\d")
_NUMBER_WORDS: tuple[str, ...] = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_NUMBER_WORDS = (*_NUMBER_WORDS, "eleven", "twelve", "twenty", "thirty", "hundred", "thousand", "dozen")
# Whole-word cues, looked up per lower-cased token (a dict beats a regex alternation tried at
# every character of a long prompt).
_CUE_WORDS: dict[str, str] = {
    **dict.fromkeys(("half", "third", "quarter", "fourth", "fifth", "twice", "double", "triple", "thrice"), "fraction"),
    **dict.fromkeys(("hour", "minute", "second", "day", "week", "month", "year"), "time"),
    **dict.fromkeys(("hours", "minutes", "seconds", "days", "weeks", "months", "years"), "time"),
    **dict.fromkeys(("per", "each", "every", "rate"), "rate"),
    **dict.fromkeys(("more", "less", "fewer", "than", "times"), "compare"),
    **dict.fromkeys(("left", "rest"), "remain"),
    **dict.fromkeys(("if", "after", "before", "then", "until", "while"), "sequence"),
    **dict.fromkeys(_NUMBER_WORDS, "number"),
    **dict.fromkeys(("average", "total", "altogether", "combined", "sum"), "aggregate"),
}
_CUE_PREFIX = re.compile(r"\b(?:(remain)|profit|discount|tax|interest|cost|price|sell|buy)\w*")
_BEST_MOST = frozenset(("best", "most", "primarily", "main"))
_COMPUTE_WORDS = frozenset(("calculate", "compute", "find"))
_ROMAN = frozenset(("i", "ii", "iii", "iv"))
_SCENARIO = frozenset(("scenario", "passage", "excerpt", "read"))
_NAME = re.compile(r"\b[A-Z][a-z]+\b")


def request_text(req: ChatRequest) -> str:
    """The text a router judges: the last user message (the whole prompt if there is none)."""
    return req.last_user_text() or req.prompt_text()


def _values(numbers: list[str]) -> list[float]:
    out: list[float] = []
    for n in numbers:
        try:
            out.append(float(n.replace(",", "")))
        except ValueError:  # "1.2.3": not a number, still counted by the caller
            continue
    return out


def _choice_shape(text: str) -> tuple[float, ...]:
    """Multiple-choice shape: the stem (text before the first option line) and the options."""
    first = _OPTION_LINE.search(text)
    options = [m.group(1).strip() for m in _OPTION_LINE.finditer(text)] if first else []
    stem = (text[: first.start()] if first else text).strip()
    low = stem.lower()
    lengths = [len(o) for o in options] or [0]
    mean = sum(lengths) / len(lengths)
    spread = math.sqrt(sum((x - mean) ** 2 for x in lengths) / len(lengths)) / (mean + 1.0)
    joined = " ".join(options).lower()
    tokens = joined.split()
    option_words = set(_TOKEN.findall(joined))
    stem_words = set(_TOKEN.findall(low))
    return (
        math.log1p(len(stem.split())),
        math.log1p(mean),
        spread,
        sum(bool(_NUMERIC_OPTION.match(o)) for o in options) / max(len(options), 1),
        float(bool(_ALL_NONE.search(joined))),
        float(not option_words.isdisjoint(("both", "neither"))),
        float(not option_words.isdisjoint(("true", "false"))),
        float(stem.endswith("?")),
        float("_" in stem),
        float(bool(_WHICH_FOLLOWING.search(low))),
        float(not stem_words.isdisjoint(_BEST_MOST)),
        float(not stem_words.isdisjoint(_COMPUTE_WORDS) or bool(_COMPUTE.search(low))),
        float(not stem_words.isdisjoint(_ROMAN)),
        float(not stem_words.isdisjoint(_SCENARIO)),
        float(bool(_YEAR.search(stem))),
        len(set(tokens)) / max(len(tokens), 1),
    )


def _cues(low: str) -> Counter[str | None]:
    """Counts of the word-problem cue kinds in lower-cased text (``None``: other words)."""
    cues = Counter(map(_CUE_WORDS.get, _TOKEN.findall(low)))
    for remain in _CUE_PREFIX.findall(low):
        cues["remain" if remain else "commerce"] += 1
    cues["fraction"] += len(_FRACTION_DIGITS.findall(low))
    return cues


def _word_problem_shape(text: str, values: list[float]) -> tuple[float, ...]:
    """Arithmetic word-problem shape: how many quantities, of which kinds, and how they relate."""
    low = text.lower()
    cues = _cues(low)
    return (
        float(len(_SENTENCE_END.findall(text))),
        float(cues["fraction"]),
        float(text.count("%") + low.count("percent")),
        float(sum(v != int(v) for v in values if math.isfinite(v))),
        float(sum(v >= 1000 for v in values)),
        float(len(set(values))),
        float(cues["time"]),
        float(cues["rate"]),
        float(cues["compare"]),
        float(cues["remain"]),
        float(cues["sequence"]),
        float(cues["number"]),
        float(len(set(_NAME.findall(text)))),
        float(cues["aggregate"]),
        float(cues["commerce"]),
        float(text.count(",")),
    )


def text_features(text: str) -> npt.NDArray[np.float32]:
    """A fixed-length vector of cheap features, in the order of ``FEATURE_NAMES``."""
    chars = len(text)
    words = text.split()
    numbers = _NUMBER.findall(text)
    values = _values(numbers)
    largest = max(values, default=0.0)
    letters = sum(map(str.isalpha, text))
    row = (
        math.log1p(chars),
        math.log1p(len(words)),
        math.log1p(text.count("\n")),
        sum(map(str.isdigit, text)) / max(chars, 1),
        math.log1p(len(numbers)),
        math.log1p(len(_MATH.findall(text))),
        float(text.count("?")),
        float(len(_NEGATION.findall(text))),
        float(len(_STATEMENT.findall(text))),
        float(len(_OPTION.findall(text))),
        sum(map(str.isupper, text)) / max(letters, 1),
        sum(len(w) for w in words) / max(len(words), 1),
        math.log1p(len(_CODE.findall(text))),
        math.log1p(min(max(largest, 0.0), 1e12)),
        *_choice_shape(text),
        *_word_problem_shape(text, values),
    )
    return np.asarray(row, dtype=np.float32)


FORMS: tuple[str, ...] = ("multiple_choice", "open")


def prompt_form(text: str) -> int:
    """0 for a multiple-choice prompt (two or more option lines such as ``B. ...``), 1 otherwise.

    The form is visible in real traffic (unlike a benchmark or subject label), and the two forms
    fail for different reasons, so the complexity model keeps one head per form."""
    return 0 if len(_OPTION.findall(text)) >= 2 else 1


def feature_matrix(texts: list[str]) -> npt.NDArray[np.float32]:
    if not texts:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    return np.stack([text_features(t) for t in texts])
