"""Guard configuration: which guards run on input and output, with which action, per key,
team or model (the most specific policy wins: key, then team, then model, then default).

    guards:
      default:
        input:
          - {type: pii, action: pseudonymize, entities: [PERSON, EMAIL_ADDRESS, PHONE_NUMBER]}
          - {type: injection, action: block}
          - {type: content, action: block, categories: [self_harm, sexual]}
        output:
          - {type: content, action: flag}
          - {type: regex, action: block, pattern: "(?i)internal use only"}
        canary: true
      teams:
        research: {input: [{type: injection, action: flag}]}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from portico.pipeline import RequestContext

GuardAction = Literal["block", "redact", "pseudonymize", "flag"]
Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
# "new": only the messages after the last assistant turn (earlier turns were checked when
# they were sent, so re-checking the whole history every turn only adds latency); "all".
Scope = Literal["new", "all"]


def _all_roles() -> list[Role]:
    return ["system", "developer", "user", "assistant", "tool", "function"]


def _user_and_tool() -> list[Role]:
    return ["user", "tool"]


def _user() -> list[Role]:
    return ["user"]


class PiiGuardSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["pii"] = "pii"
    action: GuardAction = "pseudonymize"
    entities: list[str] | None = None  # None: portico.guards.pii.DEFAULT_ENTITIES
    thresholds: dict[str, float] = Field(default_factory=dict)
    # Assistant turns in the history hold values the client saw restored: mask them too.
    roles: list[Role] = Field(default_factory=_all_roles)
    # Placeholders must be consistent across the whole history, so PII reads every turn.
    scope: Scope = "all"


class InjectionGuardSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["injection"] = "injection"
    action: Literal["block", "flag"] = "block"
    threshold: float | None = Field(default=None, ge=0, le=1)  # None: the shipped calibrated one
    rules: bool = True
    roles: list[Role] = Field(default_factory=_user_and_tool)
    scope: Scope = "new"


class ContentGuardSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["content"] = "content"
    action: Literal["block", "flag"] = "block"
    categories: list[str] | None = None  # None: every category of the shipped model
    thresholds: dict[str, float] = Field(default_factory=dict)
    roles: list[Role] = Field(default_factory=_user)
    scope: Scope = "new"


class RegexGuardSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["regex"] = "regex"
    action: Literal["block", "redact", "flag"] = "block"
    pattern: str
    name: str = "regex"
    roles: list[Role] = Field(default_factory=_user)
    scope: Scope = "new"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        import re

        re.compile(v)
        return v


class LengthGuardSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["length"] = "length"
    action: Literal["block", "flag"] = "block"
    max_chars: int = Field(ge=1)
    roles: list[Role] = Field(default_factory=_user)
    scope: Scope = "new"


GuardSpec = Annotated[
    PiiGuardSpec | InjectionGuardSpec | ContentGuardSpec | RegexGuardSpec | LengthGuardSpec,
    Field(discriminator="type"),
]


class GuardPolicy(BaseModel):
    """The guards for one scope. Output guards see the model's answer (after pseudonyms
    are restored); ``roles`` does not apply to them."""

    model_config = ConfigDict(extra="forbid")
    input: list[GuardSpec] = Field(default_factory=list)
    output: list[GuardSpec] = Field(default_factory=list)
    # Plant a canary in the system prompt; its appearance in an answer is a prompt leak.
    canary: bool = False
    canary_action: Literal["block", "flag"] = "block"
    # Enforce response_format json_schema with one repair attempt.
    json_schema: bool = True
    # Run the input guards that only block or flag (not redact / pseudonymize) alongside the
    # rest of the pipeline instead of before it: their latency hides behind the upstream
    # call's; a block cancels that call (whose cost may already be spent).
    parallel: bool = False


PiiNer = Literal["tagger", "spacy"]


class GuardSettings(BaseModel):
    """The ``guards`` section of portico.yaml."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    # Who finds names, places and addresses for every PII guard in the process: Portico's
    # CRF tagger (fast, trained for this), or spaCy's small NER with Presidio's stock rules.
    pii_ner: PiiNer = "tagger"
    default: GuardPolicy = Field(default_factory=GuardPolicy)
    keys: dict[str, GuardPolicy] = Field(default_factory=dict)
    teams: dict[str, GuardPolicy] = Field(default_factory=dict)
    models: dict[str, GuardPolicy] = Field(default_factory=dict)

    def policy_for(self, ctx: RequestContext) -> GuardPolicy:
        caller = ctx.caller
        if caller.key_id is not None and caller.key_id in self.keys:
            return self.keys[caller.key_id]
        if caller.team_id is not None and caller.team_id in self.teams:
            return self.teams[caller.team_id]
        for model in (ctx.model_requested, ctx.model):
            if model in self.models:
                return self.models[model]
        return self.default
