"""Settings of the limits section (``limits:`` in portico.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LimitsSettings(BaseModel):
    """Rate limits, concurrency and budgets.

    ``backend: memory`` holds one process exactly; ``backend: redis`` holds any number of
    replicas exactly (atomic Lua, the Redis server's clock). ``fail_open`` decides what
    happens when Redis cannot be reached: admit without limits (True) or answer 503
    (False, the default); either way it is logged and counted in
    ``portico_limiter_unavailable_total``.
    """

    model_config = ConfigDict(extra="forbid")

    backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "portico:"
    fail_open: bool = False
    redis_timeout_s: float = Field(default=0.5, gt=0)
    window_s: int = Field(default=60, ge=1, description="the RPM/TPM window; 60 = per minute")
    lease_s: int = Field(
        default=900,
        ge=1,
        description="a concurrency slot or budget reservation a crashed replica never settled expires",
    )
    chars_per_token: float = Field(
        default=3.0, gt=0, description="prompt-token estimate for reservations; low = conservative"
    )
    default_max_tokens: int = Field(
        default=4096, ge=1, description="output tokens reserved when a request sets no max_tokens"
    )
    prices_file: str | None = Field(default=None, description="extra price catalog YAML (model: {input_per_mtok, ...})")
