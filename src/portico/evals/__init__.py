"""Evaluation harness: datasets, scorers, runner, metrics, reports, targets and routing replay."""

from portico.evals.client import ChatClient, Outcome, RequestOptions
from portico.evals.dataset import Assertion, Dataset, EvalCase, RowProblem, load_dataset
from portico.evals.metrics import Summary, summarise, wilson_interval
from portico.evals.pricing import Price, PriceTable
from portico.evals.records import RowResult, RunState, Target
from portico.evals.runner import EvalRunner
from portico.evals.scoring import Score, Scorer, ScorerSet
from portico.evals.targets import TargetsError, TargetSpec, load_targets, parse_targets

__all__ = [
    "Assertion",
    "ChatClient",
    "Dataset",
    "EvalCase",
    "EvalRunner",
    "Outcome",
    "Price",
    "PriceTable",
    "RequestOptions",
    "RowProblem",
    "RowResult",
    "RunState",
    "Score",
    "Scorer",
    "ScorerSet",
    "Summary",
    "Target",
    "TargetSpec",
    "TargetsError",
    "load_dataset",
    "load_targets",
    "parse_targets",
    "summarise",
    "wilson_interval",
]
