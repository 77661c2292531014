"""LLM-as-judge: a configured model grades the reply against a rubric and answers PASS or FAIL."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.scoring.base import Score

#: ``(messages, model) -> reply text``; the runner passes one that goes through the same gateway.
Complete = Callable[[Sequence[Mapping[str, Any]], str], Awaitable[str]]

DEFAULT_RUBRIC = "The answer is correct, complete and consistent with the reference answer (if any)."
_VERDICT = re.compile(r"\b(PASS|FAIL)\b")
_SCORE = re.compile(r"\bscore\s*[:=]\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\d+))?", re.IGNORECASE)

_TEMPLATE = """You are grading an answer. Rubric: {rubric}

Question:
{question}

Reference answer:
{reference}

Answer to grade:
{answer}

Reply with PASS or FAIL on the first line, then one sentence of reasons."""


def judge_messages(rubric: str, case: EvalCase, output: str) -> list[dict[str, str]]:
    prompt = _TEMPLATE.format(
        rubric=rubric,
        question=case.prompt,
        reference=" | ".join(case.expected) or "(none)",
        answer=output,
    )
    return [{"role": "user", "content": prompt}]


def parse_verdict(reply: str) -> Score | None:
    m = _VERDICT.search(reply.upper())
    if m:
        return Score.of(m.group(1) == "PASS", reply.strip()[:200])
    s = _SCORE.search(reply)
    if s:
        value = float(s.group(1)) / float(s.group(2) or 10)
        return Score(passed=value >= 0.7, value=min(1.0, value), reason=reply.strip()[:200])
    return None


class LlmJudge:
    """``value`` (or option ``rubric``) is the rubric; option ``model`` overrides the default judge."""

    def __init__(self, complete: Complete | None, default_model: str | None) -> None:
        self._complete = complete
        self._model = default_model

    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score:
        model = str(assertion.options.get("model") or self._model or "")
        if self._complete is None or not model:
            return Score.of(False, "llm_judge needs a judge model: pass --judge-model NAME")
        rubric = str(assertion.options.get("rubric") or assertion.value or DEFAULT_RUBRIC)
        reply = await self._complete(judge_messages(rubric, case, output), model)
        verdict = parse_verdict(reply)
        if verdict is None:
            return Score.of(False, f"judge gave no verdict: {reply.strip()[:120]!r}")
        return verdict
