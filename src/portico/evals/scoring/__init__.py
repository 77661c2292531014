"""Scorers: text, numeric, choice, JSON, embedding similarity, LLM judge and custom callables."""

from portico.evals.scoring.base import Score, Scorer
from portico.evals.scoring.custom import ScorerImportError
from portico.evals.scoring.registry import ALIASES, CheckResult, ScorerSet, UnknownScorer

__all__ = ["ALIASES", "CheckResult", "Score", "Scorer", "ScorerImportError", "ScorerSet", "UnknownScorer"]
