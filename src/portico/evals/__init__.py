"""Evaluation harness: datasets, scorers, runner, metrics, reports, targets and routing replay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.evals.client import ChatClient, Outcome, RequestOptions
    from portico.evals.dataset import Assertion, Dataset, EvalCase, RowProblem, load_dataset
    from portico.evals.metrics import Summary, summarise, wilson_interval
    from portico.evals.pricing import Price, PriceTable
    from portico.evals.records import RowResult, RunState, Target
    from portico.evals.runner import EvalRunner
    from portico.evals.scoring import Score, Scorer, ScorerSet
    from portico.evals.targets import TargetsError, TargetSpec, load_targets, parse_targets

_HOMES = {
    "Assertion": "dataset",
    "ChatClient": "client",
    "Dataset": "dataset",
    "EvalCase": "dataset",
    "EvalRunner": "runner",
    "Outcome": "client",
    "Price": "pricing",
    "PriceTable": "pricing",
    "RequestOptions": "client",
    "RowProblem": "dataset",
    "RowResult": "records",
    "RunState": "records",
    "Score": "scoring",
    "Scorer": "scoring",
    "ScorerSet": "scoring",
    "Summary": "metrics",
    "Target": "records",
    "TargetSpec": "targets",
    "TargetsError": "targets",
    "load_dataset": "dataset",
    "load_targets": "targets",
    "parse_targets": "targets",
    "summarise": "metrics",
    "wilson_interval": "metrics",
}
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
__getattr__ = lazy_exports(__name__, _HOMES)
