"""Scorer names and the per-row verdict: a row passes when every one of its checks passes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.scoring import text
from portico.evals.scoring.base import Score, Scorer
from portico.evals.scoring.custom import PythonScorer, ScorerImportError
from portico.evals.scoring.judge import Complete, LlmJudge
from portico.evals.scoring.semantic import EmbeddingSimilarity, TextEmbedder, default_embedder
from portico.evals.scoring.structured import JsonMatch, JsonSchemaValid, JsonValid

#: Alternative spellings users bring from promptfoo / OpenAI evals.
ALIASES: Mapping[str, str] = {
    "equals": "exact",
    "match": "exact",
    "normalized_exact": "normalised_exact",
    "normalised": "normalised_exact",
    "includes": "contains",
    "icontains": "contains",
    "number": "numeric",
    "multiple_choice": "choice",
    "mc": "choice",
    "is-json": "json_valid",
    "json": "json_valid",
    "is-valid-json-schema": "json_schema",
    "similar": "similarity",
    "embedding": "similarity",
    "llm-rubric": "llm_judge",
    "judge": "llm_judge",
    "custom": "python",
    "groundedness": "grounded",
    "faithfulness": "grounded",
}


@dataclass(frozen=True)
class CheckResult:
    type: str
    passed: bool
    value: float
    reason: str


class UnknownScorer(ValueError):
    pass


def _grounded() -> Scorer:
    from portico.rag.scorer import GroundedScorer  # RAG's checker; imported when a set is built

    return GroundedScorer()


class ScorerSet:
    """The scorers of one run. Expensive ones (embedder, judge) are shared by all rows."""

    def __init__(
        self,
        *,
        complete: Complete | None = None,
        judge_model: str | None = None,
        make_embedder: Callable[[], TextEmbedder] = default_embedder,
        extra: Mapping[str, Scorer] | None = None,
    ) -> None:
        self._python = PythonScorer()
        self._scorers: dict[str, Scorer] = {
            "exact": text.exact(),
            "normalised_exact": text.normalised_exact(),
            "contains": text.contains(),
            "regex": text.regex(),
            "numeric": text.numeric(),
            "choice": text.choice(),
            "json_valid": JsonValid(),
            "json_schema": JsonSchemaValid(),
            "json_match": JsonMatch(),
            "similarity": EmbeddingSimilarity(make_embedder),
            "llm_judge": LlmJudge(complete, judge_model),
            "python": self._python,
            "grounded": _grounded(),
        }
        self._scorers.update(extra or {})

    @property
    def names(self) -> list[str]:
        return sorted(self._scorers)

    def canonical(self, name: str) -> str:
        key = ALIASES.get(name, name)
        if key not in self._scorers:
            raise UnknownScorer(f"unknown scorer {name!r}; known: {', '.join(self.names)}")
        return key

    def default_assertion(self, spec: str) -> Assertion:
        """``--scorer`` value: a scorer name or a custom ``module:function`` reference."""
        if ":" in spec:
            self._python.resolve(spec)  # fail fast, before any request is sent
            return Assertion(type="python", value=spec)
        return Assertion(type=self.canonical(spec))

    def validate(self, case: EvalCase) -> None:
        """Raise :class:`UnknownScorer` / :class:`ScorerImportError` for a row that cannot be scored."""
        for a in case.asserts:
            if self.canonical(a.type) == "python":
                self._python.resolve(str(a.value))

    async def check(self, output: str, case: EvalCase, default: Assertion) -> list[CheckResult]:
        asserts = case.asserts or (default,)
        out: list[CheckResult] = []
        for a in asserts:
            key = self.canonical(a.type)
            try:
                score = await self._scorers[key].score(output, a, case)
            except (ScorerImportError, TypeError, ValueError) as exc:
                score = Score.of(False, f"scorer error: {exc}")
            out.append(CheckResult(type=key, passed=score.passed, value=score.value, reason=score.reason))
        return out
