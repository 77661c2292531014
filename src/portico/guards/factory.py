"""Build Guard objects from their config specs (one place, used by the stage and the CLI)."""

from __future__ import annotations

from portico.guards.base import Action, Guard
from portico.guards.content import ContentGuard
from portico.guards.injection import InjectionGuard
from portico.guards.pii import DEFAULT_ENTITIES, PiiDetector, PiiGuard
from portico.guards.rules import LengthGuard, RegexGuard
from portico.guards.runtime import GuardRuntime
from portico.guards.settings import (
    ContentGuardSpec,
    GuardSpec,
    InjectionGuardSpec,
    LengthGuardSpec,
    PiiGuardSpec,
    RegexGuardSpec,
)
from portico.guards.vault import PseudonymVault
from portico.pipeline import RequestContext

VAULT_STATE = "guards.vault"


def vault_for(ctx: RequestContext) -> PseudonymVault:
    """The request's pseudonym vault (created on first use)."""
    vault = ctx.state.get(VAULT_STATE)
    if not isinstance(vault, PseudonymVault):
        vault = PseudonymVault()
        ctx.state[VAULT_STATE] = vault
    return vault


def build_guard(spec: GuardSpec, runtime: GuardRuntime) -> Guard:
    action = Action(spec.action)
    if isinstance(spec, PiiGuardSpec):
        detector = PiiDetector(runtime.analyzer, spec.entities or DEFAULT_ENTITIES, spec.thresholds)
        return PiiGuard(detector, action, vault_for)
    if isinstance(spec, InjectionGuardSpec):
        return InjectionGuard(runtime, action, spec.threshold, spec.rules)
    if isinstance(spec, ContentGuardSpec):
        return ContentGuard(runtime, action, spec.categories, spec.thresholds)
    if isinstance(spec, RegexGuardSpec):
        return RegexGuard(spec.pattern, action, spec.name)
    if isinstance(spec, LengthGuardSpec):
        return LengthGuard(spec.max_chars, action)
    raise TypeError(f"unknown guard spec {spec!r}")
