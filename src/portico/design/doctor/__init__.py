"""`portico doctor`: check a running gateway's metrics and/or an eval report against targets
with the iteration checklist and red-flag table; pass / warn / fail with evidence."""

from portico.design.doctor.checks import Check, run_checks
from portico.design.doctor.evalreport import EvalResult, load_eval_report, parse_eval_report
from portico.design.doctor.metrics import MetricsSnapshot, parse_metrics
from portico.design.doctor.targets import Targets, load_targets, parse_targets

__all__ = [
    "Check",
    "EvalResult",
    "MetricsSnapshot",
    "Targets",
    "load_eval_report",
    "load_targets",
    "parse_eval_report",
    "parse_metrics",
    "parse_targets",
    "run_checks",
]
