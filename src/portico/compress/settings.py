"""Settings of the compression stage (the ``compression:`` section); off unless asked for."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "developer", "user", "tool"]
ROLES: tuple[Role, ...] = ("system", "developer", "user", "tool")


class CompressionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="compress every request's long inputs")
    models: list[str] = Field(default_factory=list, description="or only requests for these models or routes")
    keys: list[str] = Field(default_factory=list, description="or only requests made with these key ids")
    ratio: float = Field(default=0.5, gt=0, le=1, description="share of a long input's tokens to keep")
    budget_tokens: int | None = Field(default=None, ge=1, description="and at most this many tokens per input")
    min_tokens: int = Field(default=1000, ge=1, description="inputs shorter than this are left alone")
    roles: list[Role] = Field(default_factory=lambda: list(ROLES))
    embed: bool = Field(default=True, description="consult the local MiniLM when the question's words are rare")

    @property
    def installed(self) -> bool:
        """Whether any request can be compressed (else the stage is left out of the chain)."""
        return self.enabled or bool(self.models) or bool(self.keys)
