"""Settings of one model deployment (the ``models:`` entries).

Kept apart from ``portico.config`` so that providers can import it without importing every
feature's settings (which would be circular); ``portico.config`` re-exports these names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

ProviderKind = Literal["local", "openai", "anthropic", "echo"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Price(_Section):
    """USD per million tokens."""

    input_per_mtok: float = Field(default=0.0, ge=0)
    output_per_mtok: float = Field(default=0.0, ge=0)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6


class TimeoutSettings(_Section):
    """Seconds. ``first_token`` bounds the wait for the first byte/token, ``inter_token`` a stalled stream."""

    connect: float = Field(default=5.0, gt=0)
    first_token: float = Field(default=60.0, gt=0)
    inter_token: float = Field(default=30.0, gt=0)
    total: float = Field(default=600.0, gt=0)


class ModelSettings(_Section):
    """One deployment of a model name. The same ``name`` may appear several times."""

    name: str = Field(min_length=1)
    provider: ProviderKind
    model: str | None = Field(default=None, description="upstream model id; defaults to name")
    base_url: str | None = None
    api_key: SecretStr | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    price: Price = Field(default_factory=Price)
    # Batch API lines (async, within 24 h) are billed at batch_price, else at price less batch_discount.
    batch_price: Price | None = None
    batch_discount: float = Field(default=0.5, ge=0, le=1)
    context_window: int | None = Field(default=None, ge=1)
    weight: float = Field(default=1.0, gt=0)
    priority: int = 0
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    timeout: TimeoutSettings = Field(default_factory=TimeoutSettings)
    max_connections: int = Field(default=256, ge=1)
    # local (llama.cpp) only
    model_path: str | None = None
    n_ctx: int = Field(default=2048, ge=128)
    threads: int | None = Field(default=None, ge=1)
    max_queue: int = Field(default=64, ge=1)

    @property
    def upstream_model(self) -> str:
        return self.model or self.name

    @model_validator(mode="after")
    def _needs_url(self) -> ModelSettings:
        if self.provider in ("openai",) and not self.base_url:
            raise ValueError(f"model '{self.name}': provider '{self.provider}' needs base_url")
        return self
