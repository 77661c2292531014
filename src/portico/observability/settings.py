"""Settings of ``tracing:`` (OpenTelemetry) in portico.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TracingSettings(BaseModel):
    """OpenTelemetry traces over OTLP/HTTP, off by default.

    Needs the ``otel`` extra (``pip install 'portico[otel]'``); with ``enabled: false`` nothing
    of OpenTelemetry is imported and the request path is unchanged.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    endpoint: str = Field(
        default="http://127.0.0.1:4318/v1/traces", description="OTLP/HTTP traces endpoint (a collector)"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="sent with every export (e.g. an API key)")
    service_name: str = "portico"
    sample_ratio: float = Field(
        default=1.0, ge=0.0, le=1.0, description="share of new traces kept; a client's sampled flag is obeyed"
    )
    timeout_s: float = Field(default=10.0, gt=0)
