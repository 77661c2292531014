"""The ``grounded`` eval scorer: the share of a reply's sentences supported by the row's context.

The context is the assertion's ``value`` (a string or a list of passages) or the row's
``metadata.context``; the question (the row's last user message) is not evidence. A row
passes when every sentence is grounded; ``portico eval`` reports the mean as
``groundedness`` and the share of rows with an ungrounded sentence as ``hallucination_rate``
(which ``portico doctor`` holds against the 5% red flag).
"""

from __future__ import annotations

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.scoring.base import Score
from portico.rag.grounding import GroundednessChecker


class GroundedScorer:
    def __init__(self, checker: GroundednessChecker | None = None) -> None:
        self.checker = checker or GroundednessChecker()

    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score:
        context = assertion.value if assertion.value is not None else case.metadata.get("context")
        if isinstance(context, str):
            passages = [context]
        elif isinstance(context, list) and all(isinstance(c, str) for c in context):
            passages = list(context)
        else:
            return Score.of(False, "no context: give the passages as the check's value or metadata.context")
        verdicts = self.checker.check(output, passages, case.prompt)
        if not verdicts:
            return Score(passed=True, value=1.0, reason="no sentences to check")
        bad = [v.text for v in verdicts if not v.grounded]
        value = 1.0 - len(bad) / len(verdicts)
        return Score(passed=not bad, value=value, reason="ungrounded: " + " | ".join(bad) if bad else "")
