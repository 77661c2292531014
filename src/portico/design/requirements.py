"""The requirements a user writes for `portico design`: every field optional, defaults stated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portico.config import format_validation, read_yaml_file
from portico.errors import ConfigError

Change = Literal["never", "rarely", "monthly", "weekly", "frequently", "daily", "realtime"]
Regime = Literal["gdpr", "soc2", "hipaa", "pci"]

# Knowledge that changes at least weekly cannot be baked into weights: retrieve it instead.
FAST_CHANGING: frozenset[str] = frozenset({"weekly", "frequently", "daily", "realtime"})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Traffic(_Section):
    requests_per_day: float = Field(default=10_000, ge=0)
    peak_rps: float | None = Field(default=None, ge=0, description="default: 3x the daily average")
    growth_per_month: float = Field(default=0.0, ge=0)
    avg_input_tokens: float = Field(default=500, ge=0)
    avg_output_tokens: float = Field(default=200, ge=0)
    repeat_query_share: float = Field(default=0.0, ge=0, le=1)
    simple_query_share: float | None = Field(default=None, ge=0, le=1)
    cascade_escalation: float | None = Field(default=None, ge=0, le=1)

    @property
    def effective_peak_rps(self) -> float:
        if self.peak_rps is not None:
            return self.peak_rps
        return 3.0 * self.requests_per_day / 86_400


class Quality(_Section):
    min_accuracy: float = Field(default=0.9, ge=0, le=1)
    metric: str = "exact match on eval set"
    eval_dataset: str | None = None


class Budget(_Section):
    usd_per_month: float | None = Field(default=None, ge=0)


class Knowledge(_Section):
    domain_specific: bool = False
    changes: Change = "rarely"
    size_docs: int = Field(default=0, ge=0)


class Output(_Section):
    format: Literal["text", "json", "markdown", "code"] = "text"
    describable_in_prompt: bool = True


class Data(_Section):
    sensitivity: Literal["low", "medium", "high"] = "medium"
    pii: bool = False
    residency: Literal["any", "eu", "us"] = "any"


class Requirements(_Section):
    use_case: str = ""
    task: Literal["general", "code", "reasoning", "extraction"] = "general"
    latency_p95_ms: float = Field(default=3000, gt=0)
    traffic: Traffic = Field(default_factory=Traffic)
    quality: Quality = Field(default_factory=Quality)
    budget: Budget = Field(default_factory=Budget)
    knowledge: Knowledge = Field(default_factory=Knowledge)
    output: Output = Field(default_factory=Output)
    data: Data = Field(default_factory=Data)
    compliance: list[Regime] = Field(default_factory=list)
    batch_ok: bool = False

    @property
    def requests_per_month(self) -> float:
        return self.traffic.requests_per_day * 30


def defaults_applied(model: BaseModel, prefix: str = "") -> list[str]:
    """Dotted names of the fields the user left out (so the output can state their defaults)."""
    out: list[str] = []
    for name in type(model).model_fields:
        path = f"{prefix}{name}"
        value = getattr(model, name)
        if name not in model.model_fields_set:
            out.append(path)
        elif isinstance(value, BaseModel):
            out.extend(defaults_applied(value, f"{path}."))
    return out


def parse_requirements(raw: Any, source: str = "<requirements>") -> Requirements:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of requirement fields")
    try:
        return Requirements.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation(exc, source, "requirements")) from None


def load_requirements(path: str | Path) -> Requirements:
    file = Path(path)
    return parse_requirements(read_yaml_file(file, f"requirements file {file}"), str(file))
