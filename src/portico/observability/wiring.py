"""Tracing and the request log as features of the gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.errors import ConfigError
from portico.feature import Feature
from portico.observability.settings import TracingSettings

if TYPE_CHECKING:
    from portico.config import Settings
    from portico.observability.tracing import Tracing


def build_tracing(settings: TracingSettings) -> Tracing | None:
    """None when tracing is off: OpenTelemetry is then never imported."""
    if not settings.enabled:
        return None
    try:
        from portico.observability.tracing import Tracing
    except ImportError as exc:
        raise ConfigError(
            f"tracing.enabled needs the OpenTelemetry SDK ({exc.name} is missing): pip install 'portico[otel]'"
        ) from None
    return Tracing.from_settings(settings)


def tracing_feature(tracing: Tracing | None) -> Feature | None:
    """First in the list, so stopped last: spans of the shutdown itself are exported too."""
    if tracing is None:
        return None
    return Feature("tracing", on_stop=(tracing.shutdown,))


def request_log_feature(settings: Settings) -> Feature | None:
    if not settings.server.request_log:
        return None
    from portico.observability.request_log import RequestLogStage

    return Feature("request_log", stages=(RequestLogStage(),))
