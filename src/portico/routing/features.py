"""Cheap text features that, beside the MiniLM embedding, describe how hard a prompt is.

The same function serves training, ``portico router score`` and the gateway, so the model
always sees features computed one way.
"""

from __future__ import annotations

import math
import re

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
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MATH = re.compile(r"[=+*/^%$\\<>]|\bsqrt\b|\bfrac\b")
_NEGATION = re.compile(r"\b(?:NOT|EXCEPT|LEAST|FALSE|INCORRECT|never)\b")
_STATEMENT = re.compile(r"Statement \d", re.IGNORECASE)
_OPTION = re.compile(r"^\s*\(?[A-H][.)]\s", re.MULTILINE)
_CODE = re.compile(r"```|\bdef \w+\(|\breturn\b|[{};]\s*$", re.MULTILINE)


def request_text(req: ChatRequest) -> str:
    """The text a router judges: the last user message (the whole prompt if there is none)."""
    return req.last_user_text() or req.prompt_text()


def text_features(text: str) -> npt.NDArray[np.float32]:
    """A fixed-length vector of cheap features, in the order of ``FEATURE_NAMES``."""
    chars = len(text)
    words = text.split()
    numbers = _NUMBER.findall(text)
    largest = 0.0
    for n in numbers:
        try:
            largest = max(largest, float(n.replace(",", "")))
        except ValueError:  # "1.2.3": not a number, still counted above
            continue
    letters = sum(c.isalpha() for c in text)
    values = (
        math.log1p(chars),
        math.log1p(len(words)),
        math.log1p(text.count("\n")),
        sum(c.isdigit() for c in text) / max(chars, 1),
        math.log1p(len(numbers)),
        math.log1p(len(_MATH.findall(text))),
        float(text.count("?")),
        float(len(_NEGATION.findall(text))),
        float(len(_STATEMENT.findall(text))),
        float(len(_OPTION.findall(text))),
        sum(c.isupper() for c in text) / max(letters, 1),
        sum(len(w) for w in words) / max(len(words), 1),
        math.log1p(len(_CODE.findall(text))),
        math.log1p(min(largest, 1e12)),
    )
    return np.asarray(values, dtype=np.float32)


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
