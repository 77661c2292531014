"""Metrics and request logging."""

from portico.observability.metrics import Metrics

__all__ = ["Metrics"]
