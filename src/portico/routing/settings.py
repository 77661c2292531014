"""The ``routing:`` config section: virtual model names, each served by one policy.

routing:
  routes:
    - name: auto
      policy: complexity
      fast: local
      strong: gpt-4o-mini
      threshold: {strong_share: 0.3}
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Condition(_Section):
    """Every field that is set must hold for the rule to match (AND)."""

    min_prompt_tokens: int | None = Field(default=None, ge=0)
    max_prompt_tokens: int | None = Field(default=None, ge=0)
    has_tools: bool | None = None
    has_images: bool | None = None
    response_format: Literal["text", "json_object", "json_schema"] | None = None
    regex: str | None = Field(default=None, description="searched in the last user message")
    intent: str | None = Field(default=None, description="an intent of this route's `intents`")
    metadata: dict[str, str] = Field(default_factory=dict, description="caller (key/team) metadata equals")
    team: str | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"regex {v!r} does not compile: {exc}") from exc
        return v


class Rule(_Section):
    when: Condition
    model: str = Field(min_length=1)


class Intent(_Section):
    name: str = Field(min_length=1)
    model: str = Field(min_length=1)
    examples: list[str] = Field(min_length=1)


class Threshold(_Section):
    """Exactly one target sets the complexity threshold.

    ``score``: route to the strong model when score > this. ``strong_share``: the share of
    traffic sent to the strong model. ``quality_floor``: the share of the strong model's
    quality to keep (e.g. 0.95). ``cost_budget``: the allowed fraction of the all-strong cost.
    """

    score: float | None = Field(default=None, ge=0, le=1)
    strong_share: float | None = Field(default=None, ge=0, le=1)
    quality_floor: float | None = Field(default=None, gt=0, le=1)
    cost_budget: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Threshold:
        chosen = [k for k in ("score", "strong_share", "quality_floor", "cost_budget") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "threshold needs exactly one of score, strong_share, quality_floor, cost_budget "
                f"(got {', '.join(chosen) or 'none'})"
            )
        return self


class _RouteBase(_Section):
    name: str = Field(min_length=1, description="the virtual model name clients send")


class RulesRoute(_RouteBase):
    policy: Literal["rules"]
    rules: list[Rule] = Field(min_length=1)
    default: str = Field(min_length=1, description="the model when no rule matches")
    intents: list[Intent] = Field(default_factory=list, description="for `when: {intent: ...}`")
    intent_threshold: float = Field(default=0.5, ge=-1, le=1)

    @model_validator(mode="after")
    def _intents_known(self) -> RulesRoute:
        known = {i.name for i in self.intents}
        for n, rule in enumerate(self.rules):
            if rule.when.intent is not None and rule.when.intent not in known:
                raise ValueError(
                    f"route '{self.name}': rules[{n}] uses intent '{rule.when.intent}' "
                    f"but `intents` defines {sorted(known) or 'none'}"
                )
        return self


class IntentRoute(_RouteBase):
    policy: Literal["intent"]
    intents: list[Intent] = Field(min_length=1)
    fallback: str = Field(min_length=1, description="the model for out-of-scope requests")
    threshold: float = Field(default=0.5, ge=-1, le=1, description="min in-scope score (cosine to the intent)")
    k: int = Field(default=3, ge=1, le=50, description="nearest examples that vote")


class ComplexityRoute(_RouteBase):
    policy: Literal["complexity"]
    fast: str = Field(min_length=1)
    strong: str = Field(min_length=1)
    threshold: Threshold = Field(default_factory=lambda: Threshold(strong_share=0.5))
    artifact: str | None = Field(
        default=None,
        description="a model file from `portico router fit`/`train`, or `general` (the prior for other tasks)",
    )


class CascadeCheck(_Section):
    """How the fast answer is accepted. Every configured check must pass."""

    min_mean_logprob: float | None = Field(default=None, le=0, description="needs logprobs from the model")
    regex: str | None = None
    json_schema: dict[str, object] | None = None
    self_check: bool = Field(default=False, description="ask the fast model whether its answer is right")
    min_length: int | None = Field(default=None, ge=0, description="characters")
    max_answer_doubt: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="escalate when the answer-signal model's P(fast answer wrong) reaches this (docs/routing.md)",
    )
    doubt_artifact: str | None = Field(
        default=None, description="an answer-doubt model from `portico router fit` (default: the shipped one)"
    )

    @model_validator(mode="after")
    def _something(self) -> CascadeCheck:
        if (
            self.min_mean_logprob is None
            and self.regex is None
            and self.json_schema is None
            and not self.self_check
            and self.min_length is None
            and self.max_answer_doubt is None
        ):
            raise ValueError(
                "check needs at least one of min_mean_logprob, regex, json_schema, self_check, min_length, "
                "max_answer_doubt"
            )
        return self

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        return Condition._compiles(v)


class CascadeRoute(_RouteBase):
    policy: Literal["cascade"]
    fast: str = Field(min_length=1)
    strong: str = Field(min_length=1)
    check: CascadeCheck


class EnsembleRoute(_RouteBase):
    policy: Literal["ensemble"]
    models: list[str] = Field(min_length=1)
    samples: int = Field(default=1, ge=1, le=8, description="calls per model")
    aggregate: Literal["majority", "judge"] = "majority"
    judge: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> EnsembleRoute:
        if self.aggregate == "judge" and not self.judge:
            raise ValueError(f"route '{self.name}': aggregate 'judge' needs `judge: <model>`")
        if len(self.models) * self.samples < 2:
            raise ValueError(f"route '{self.name}': an ensemble needs at least 2 answers (models x samples)")
        return self


RouteSettings = Annotated[
    RulesRoute | IntentRoute | ComplexityRoute | CascadeRoute | EnsembleRoute,
    Field(discriminator="policy"),
]


class RoutingSettings(_Section):
    routes: list[RouteSettings] = Field(default_factory=list)
    header: bool = Field(default=True, description="send x-portico-route")

    @model_validator(mode="after")
    def _unique(self) -> RoutingSettings:
        seen: set[str] = set()
        for r in self.routes:
            if r.name in seen:
                raise ValueError(f"routing: route name '{r.name}' is declared twice")
            seen.add(r.name)
        return self

    def route(self, name: str) -> RulesRoute | IntentRoute | ComplexityRoute | CascadeRoute | EnsembleRoute | None:
        for r in self.routes:
            if r.name == name:
                return r
        return None

    def targets(self) -> set[str]:
        """Every model name a route may call (to check against the configured models)."""
        out: set[str] = set()
        for r in self.routes:
            if isinstance(r, RulesRoute):
                out.update(x.model for x in r.rules)
                out.add(r.default)
                out.update(i.model for i in r.intents)
            elif isinstance(r, IntentRoute):
                out.update(i.model for i in r.intents)
                out.add(r.fallback)
            elif isinstance(r, ComplexityRoute | CascadeRoute):
                out.update((r.fast, r.strong))
            else:
                out.update(r.models)
                if r.judge:
                    out.add(r.judge)
        return out
