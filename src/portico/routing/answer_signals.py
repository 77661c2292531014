"""Doubt about a fast model's answer, from signals that exist at run time: is the
arithmetic it shows right, does it end in the expected answer format, does it hedge or
correct itself, does its final answer follow from its own last step, how long is it.

A cascade asks the fast model first and escalates when the doubt is high; unlike a
prompt-only router it sees the answer, which is where most of the signal is (on GSM8K a
prompt-only scorer reaches AUC 0.59 for "the fast model is wrong"; these signals about
0.76, see docs/routing.md). The weights are a logistic regression fitted by
``scripts/train_router.py --answer-doubt`` on RouteLLM's GSM8K training half and shipped
as JSON (``data/answer_doubt_v1.json``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico.errors import ConfigError

DOUBT_ARTIFACT = Path(__file__).with_name("data") / "answer_doubt_v1.json"

SIGNALS: tuple[str, ...] = (
    "final_marker",
    "final_not_integer",
    "final_negative",
    "checked_steps",
    "wrong_steps",
    "right_step_share",
    "hedges",
    "log_answer_chars",
    "log_prompt_chars",
    "answer_lines",
    "final_unsupported",
    "prompt_numbers",
    "asks_back",
)

_CALC = re.compile(r"<<([^<>=]+)=([^<>]+)>>")
# A number: digits with optional thousands commas and decimals. Written so that no two parts
# can match the same digits: the earlier ``[\d,]*\.?\d+`` backtracked exponentially on long
# digit runs (51 s on one MBPP answer, a stall any fast model's output could cause); the two
# give the same matches on every RouteLLM GSM8K answer.
_NUM = r"-?(?:\d+(?:,\d+)*(?:\.\d+)?|\.\d+)"
_EQUATION = re.compile(rf"({_NUM}(?:\s*[-+*/x×]\s*{_NUM})+)\s*=\s*\$?({_NUM})")
_HEDGE = re.compile(
    r"(?i)\b(?:however|assum\w*|approximately|about|roughly|round\w*|not possible|can't|cannot|actually|"
    r"but since|unclear|seems|likely|probably|wait|mistake|correct(?:ion)?|re-?evaluat\w*|let me)\b"
)
_NUMBER = re.compile(r"-?\d[\d,]*\.?\d*")
_FINAL = re.compile(r"(?:####|[Tt]he (?:final )?answer is:?)\s*\$?(-?[\d,]*\.?\d+)")
_ARITH = re.compile(r"[\d\s.+\-*/()]+")


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("$", "").strip().rstrip("."))
    except ValueError:
        return None


def _evaluate(expr: str) -> float | None:
    """The value of a plain arithmetic expression (digits, + - * / and parentheses only)."""
    cleaned = expr.replace(",", "").replace("x", "*").replace("×", "*").replace("$", "")
    if not _ARITH.fullmatch(cleaned) or "**" in cleaned:
        return None
    try:
        value = eval(cleaned, {"__builtins__": {}}, {})
    except (SyntaxError, ZeroDivisionError, TypeError, ValueError, OverflowError):
        return None
    return float(value) if isinstance(value, int | float) else None


def _step_ok(expr: str, claimed: str) -> bool | None:
    value, stated = _evaluate(expr), _number(claimed)
    if value is None or stated is None:
        return None
    return abs(value - stated) < max(0.01, 1e-6 * abs(value))


def answer_signals(prompt: str, answer: str) -> list[float]:
    """The values of :data:`SIGNALS` for one prompt and the fast model's answer."""
    steps = [_step_ok(a, b) for a, b in _CALC.findall(answer)] + [_step_ok(a, b) for a, b in _EQUATION.findall(answer)]
    checked = [s for s in steps if s is not None]
    final_match = _FINAL.search(answer)
    final = _number(final_match.group(1)) if final_match else None
    numbers = [n for n in (_number(x) for x in _NUMBER.findall(answer)) if n is not None]
    unsupported = final is not None and len(numbers) > 1 and final not in numbers[:-1]
    return [
        1.0 if final_match else 0.0,
        0.0 if final is None else float(final != round(final)),
        0.0 if final is None else float(final < 0),
        float(len(checked)),
        float(sum(1 for s in checked if not s)),
        (sum(checked) / len(checked)) if checked else 1.0,
        float(len(_HEDGE.findall(answer))),
        math.log1p(len(answer)),
        math.log1p(len(prompt)),
        float(answer.count("\n")),
        float(unsupported),
        float(len(_NUMBER.findall(prompt))),
        float("?" in answer),
    ]


@dataclass(frozen=True, slots=True)
class AnswerDoubt:
    """P(the fast answer is wrong) = sigmoid(w . standardised signals + b)."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> AnswerDoubt:
        where = path or DOUBT_ARTIFACT
        try:
            raw = json.loads(where.read_text(encoding="utf-8"))
            signals = list(raw["signals"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"answer-doubt model {where}: cannot be read ({exc})") from exc
        if signals != list(SIGNALS):
            raise ConfigError(f"answer-doubt model {where}: trained on other signals than this version computes")
        return cls(
            tuple(raw["weights"]), float(raw["bias"]), tuple(raw["mean"]), tuple(raw["scale"]), raw.get("meta", {})
        )

    def save(self, path: Path) -> None:
        body = {
            "signals": list(SIGNALS),
            "weights": list(self.weights),
            "bias": self.bias,
            "mean": list(self.mean),
            "scale": list(self.scale),
            "meta": self.meta,
        }
        path.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")

    @property
    def default_threshold(self) -> float:
        """Escalate at or above this doubt: the cut that kept 95% of the strong model's
        quality on the training half (``meta``)."""
        return float(self.meta.get("threshold_at_95", 0.5))

    def doubt(self, prompt: str, answer: str) -> float:
        z = self.bias
        for w, x, m, s in zip(self.weights, answer_signals(prompt, answer), self.mean, self.scale, strict=True):
            z += w * (x - m) / s
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def fit_answer_doubt(
    prompts: list[str],
    answers: list[str],
    fast_wrong: list[bool],
    *,
    c: float = 1.0,
    meta: dict[str, Any] | None = None,
    signals: Any = None,
) -> AnswerDoubt:
    """Fit the doubt model on logged fast answers and whether each was wrong (``signals``: their
    :func:`answer_signals` rows if already computed, as learning curves refit many times)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if signals is None:
        signals = [answer_signals(p, a) for p, a in zip(prompts, answers, strict=True)]
    x = np.asarray(signals, dtype=np.float64)
    y = np.array(fast_wrong, dtype=int)
    if len(set(y.tolist())) < 2:
        raise ValueError("need both right and wrong fast answers to learn from")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y)
    return AnswerDoubt(
        tuple(float(w) for w in model.coef_[0]),
        float(model.intercept_[0]),
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        dict(meta or {}),
    )
