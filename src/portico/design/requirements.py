"""The requirements a user writes for `portico design`: every field optional, defaults stated,
unknown fields rejected by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from portico.config import format_validation, read_yaml_file
from portico.errors import ConfigError

Change = Literal["never", "rarely", "monthly", "weekly", "frequently", "daily", "realtime"]
Regime = Literal["gdpr", "soc2", "hipaa", "pci"]
Residency = Literal["any", "eu", "us"]
Sensitivity = Literal["low", "medium", "high"]
# What a field holds decides which detector guards it (portico.guards.pii entity names).
FieldKind = Literal[
    "name", "email", "phone", "address", "card_number", "iban", "ssn", "id_number",
    "health", "financial", "credentials", "free_text", "other",
]  # fmt: skip

# Knowledge that changes at least weekly cannot be baked into weights: retrieve it instead.
FAST_CHANGING: frozenset[str] = frozenset({"weekly", "frequently", "daily", "realtime"})
# The interactive p95 assumed when a non-batch workload states none.
DEFAULT_LATENCY_P95_MS = 3000.0
_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Traffic(_Section):
    requests_per_day: float = Field(default=10_000, ge=0)
    peak_rps: float | None = Field(default=None, ge=0, description="default: 3x the daily average")
    growth_per_month: float = Field(default=0.0, ge=0)
    avg_input_tokens: float = Field(default=500, ge=0)
    avg_output_tokens: float = Field(default=200, ge=0)
    repeat_query_share: float = Field(default=0.0, ge=0, le=1)
    exact_repeat_share: float | None = Field(default=None, ge=0, le=1, description="byte-identical repeats")
    simple_query_share: float | None = Field(default=None, ge=0, le=1)

    @property
    def effective_peak_rps(self) -> float:
        if self.peak_rps is not None:
            return self.peak_rps
        return 3.0 * self.requests_per_day / 86_400


class Quality(_Section):
    min_accuracy: float = Field(default=0.9, ge=0, le=1)
    metric: str = "exact match on eval set"
    eval_dataset: str | None = None
    # A wrong answer is costly (medical, legal, money): worth several models voting.
    accuracy_critical: bool = False


class Budget(_Section):
    usd_per_month: float | None = Field(default=None, ge=0)


class Knowledge(_Section):
    domain_specific: bool = False
    changes: Change = "rarely"
    size_docs: int = Field(default=0, ge=0)


class Output(_Section):
    format: Literal["text", "json", "markdown", "code", "label"] = "text"
    describable_in_prompt: bool = True
    streaming: bool = False


class Agent(_Section):
    """Tool use and multi-step agents: each user request is ``steps_per_request`` model calls."""

    tool_use: bool = False
    steps_per_request: float = Field(default=1.0, ge=1)
    # The agent acts in the world (sends, pays, books): a person approves risky actions.
    takes_actions: bool = False


class DataField(_Section):
    kind: FieldKind = "other"
    sensitivity: Sensitivity = "medium"
    residency: Residency = "any"


class Data(_Section):
    sensitivity: Sensitivity = "medium"
    pii: bool = False
    residency: Residency = "any"
    # Data may not leave infrastructure we run: self-hosted or embedded models only.
    in_house: bool = False
    fields: dict[str, DataField] = Field(default_factory=dict)

    @property
    def effective_sensitivity(self) -> Sensitivity:
        levels = [self.sensitivity, *(f.sensitivity for f in self.fields.values())]
        return max(levels, key=lambda s: _RANK[s])

    @property
    def effective_residency(self) -> Residency:
        """The strictest residency any field asks for (one request carries every field)."""
        places = {self.residency, *(f.residency for f in self.fields.values())} - {"any"}
        if len(places) > 1:
            raise ValueError(f"data fields ask for residency in {sorted(places)}: no region satisfies both")
        return next(iter(places), "any")

    @property
    def kinds(self) -> set[str]:
        return {f.kind for f in self.fields.values()}

    @property
    def personal(self) -> bool:
        personal_kinds = {"name", "email", "phone", "address", "card_number", "iban", "ssn", "id_number", "health"}
        return self.pii or bool(self.kinds & personal_kinds)

    @property
    def health(self) -> bool:
        return "health" in self.kinds


class Requirements(_Section):
    use_case: str = ""
    task: Literal["general", "code", "reasoning", "extraction", "classification"] = "general"
    latency_p95_ms: float | None = Field(
        default=None, gt=0, description=f"full-response p95; default {DEFAULT_LATENCY_P95_MS:g} unless batch_ok"
    )
    ttft_ms: float | None = Field(default=None, gt=0, description="p95 time to first token (streaming)")
    traffic: Traffic = Field(default_factory=Traffic)
    quality: Quality = Field(default_factory=Quality)
    budget: Budget = Field(default_factory=Budget)
    knowledge: Knowledge = Field(default_factory=Knowledge)
    output: Output = Field(default_factory=Output)
    agent: Agent = Field(default_factory=Agent)
    data: Data = Field(default_factory=Data)
    compliance: list[Regime] = Field(default_factory=list)
    batch_ok: bool = False
    human_handoff: bool | None = Field(default=None, description="default: on for agents that act and health data")

    @model_validator(mode="after")
    def _consistent(self) -> Requirements:
        _ = self.data.effective_residency  # raises on contradictory field residencies
        return self

    @property
    def requests_per_month(self) -> float:
        return self.traffic.requests_per_day * 30

    @property
    def latency_target_ms(self) -> float | None:
        """The interactive p95 to meet; None for batch work that stated none."""
        if self.latency_p95_ms is not None:
            return self.latency_p95_ms
        return None if self.batch_ok else DEFAULT_LATENCY_P95_MS

    @property
    def streaming(self) -> bool:
        return self.output.streaming or self.ttft_ms is not None

    @property
    def sensitivity(self) -> Sensitivity:
        return self.data.effective_sensitivity

    @property
    def residency(self) -> Residency:
        return self.data.effective_residency

    @property
    def needs_handoff(self) -> bool:
        if self.human_handoff is not None:
            return self.human_handoff
        return self.agent.takes_actions or self.data.health or "hipaa" in self.compliance


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
        raise ConfigError(_unknown_named(format_validation(exc, source, "requirements"))) from None


def _unknown_named(message: str) -> str:
    # pydantic says "Extra inputs are not permitted"; say which field is unknown.
    return message.replace("Extra inputs are not permitted", "unknown field (not a requirement Portico knows)")


def load_requirements(path: str | Path) -> Requirements:
    file = Path(path)
    return parse_requirements(read_yaml_file(file, f"requirements file {file}"), str(file))
