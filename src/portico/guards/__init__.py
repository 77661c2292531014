"""Safety guards: PII redaction and reversible pseudonymization (Presidio, offline),
prompt-injection detection, content filtering and output validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.guards.base import Action, Finding, Guard, Verdict
    from portico.guards.runtime import GuardRuntime
    from portico.guards.settings import GuardPolicy, GuardSettings
    from portico.guards.stage import GuardStage
    from portico.guards.vault import PseudonymVault

_HOMES = {
    "Action": "base",
    "Finding": "base",
    "Guard": "base",
    "GuardPolicy": "settings",
    "GuardRuntime": "runtime",
    "GuardSettings": "settings",
    "GuardStage": "stage",
    "PseudonymVault": "vault",
    "Verdict": "base",
}
__all__ = [
    "Action",
    "Finding",
    "Guard",
    "GuardPolicy",
    "GuardRuntime",
    "GuardSettings",
    "GuardStage",
    "PseudonymVault",
    "Verdict",
]
__getattr__ = lazy_exports(__name__, _HOMES)
