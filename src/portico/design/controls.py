"""Safety and compliance controls: the seed's safety checklist and each regime's rules as a
table of (condition, control). Each control names where it lives in portico.yaml; the
config renderer marks which ones it emitted live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portico.design.decision import Decision
from portico.design.requirements import Requirements

# The minimum audit retention (days) a regime asks for. GDPR asks for none: it sets a
# MAXIMUM (storage limitation), so its entry is the ceiling for rows holding personal data.
MIN_RETENTION_DAYS: dict[str, int] = {"baseline": 30, "soc2": 365, "pci": 365, "hipaa": 2190}
RETENTION_SOURCE: dict[str, str] = {
    "baseline": "Portico default",
    "soc2": "SOC 2 CC7.2 monitoring evidence, customarily kept for the 12-month audit period",
    "pci": "PCI DSS v4 10.5.1: audit log history kept >= 12 months (3 months immediately available)",
    "hipaa": "HIPAA 45 CFR 164.316(b)(2): required documentation kept 6 years",
}
GDPR_SOURCE = "GDPR Art. 5(1)(e) storage limitation: personal data kept no longer than necessary (a maximum)"


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    regime: str
    control: str
    config: str  # where it lives in portico.yaml, or "process" for an organisational step
    live: bool = False  # set by the config renderer when portico.yaml turns it on

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "regime": self.regime, "control": self.control, "config": self.config, "live": self.live}


When = Callable[[Requirements, bool], bool]  # (requirements, rag chosen) -> applies


def _always(req: Requirements, rag: bool) -> bool:
    return True


def _regime(name: str) -> When:
    return lambda req, rag: name in req.compliance


def _personal(req: Requirements, rag: bool) -> bool:
    return req.data.personal or req.sensitivity == "high"


CHECKLIST: tuple[tuple[When, Control], ...] = (
    (_always, Control("SAFE-AUTH", "seed", "Virtual keys; master key from the environment", "auth.master_key")),
    (_always, Control("SAFE-SECRETS", "seed", "Provider keys only from the environment, never in files or logs",
                      "models[].api_key")),
    (_always, Control("SAFE-INJECTION", "seed", "Prompt-injection guard on user and tool input; canary for leaks",
                      "guards.default.input[injection]")),
    (_always, Control("SAFE-CONTENT", "seed", "Content filter on input and output", "guards.default.input[content]")),
    (_always, Control("SAFE-LIMITS", "seed", "Per-key rate limits and monthly budget caps",
                      "limits + portico keys create --budget")),
    (_always, Control("SAFE-AUDIT", "seed", "Audit log of every request (key, model, tokens, cost, verdicts)",
                      "storage")),
    (_personal, Control("SAFE-PII", "pii", "Pseudonymize PII before any upstream; restore it in the answer",
                        "guards.default.input[pii]")),
    (_personal, Control("SAFE-NO-BODIES", "pii", "Audit rows keep no prompt or answer text",
                        "storage.store_prompts")),
    (lambda req, rag: req.output.format == "json",
     Control("SAFE-SCHEMA", "seed", "Validate JSON answers against the request's schema; repair once",
             "guards.default.json_schema")),
    (lambda req, rag: rag,
     Control("SAFE-GROUNDED", "seed", "Answers cite retrieved sources; groundedness in the eval plan", "rag")),
    (lambda req, rag: req.needs_handoff,
     Control("SAFE-HANDOFF", "seed", "Hand off to a person: low confidence, risky actions, health questions",
             "process (application)")),
    (lambda req, rag: "gdpr" in req.compliance and req.residency == "eu",
     Control("GDPR-RESIDENCY", "gdpr", "Only EU-hosted or self-hosted upstreams", "models")),
    (lambda req, rag: "gdpr" in req.compliance and req.residency != "eu",
     Control("GDPR-TRANSFER", "gdpr", "Non-EU processors need SCCs / adequacy; consider data.residency: eu",
             "process")),
    (_regime("gdpr"), Control("GDPR-DPA", "gdpr", "Data processing agreement with every hosted provider", "process")),
    (_regime("gdpr"), Control("GDPR-ERASURE", "gdpr", "Erase a data subject's audit rows on request", "process")),
    (_regime("soc2"), Control("SOC2-AUDIT", "soc2", "Audit records committed before the response is released",
                              "storage.durability")),
    (_regime("soc2"), Control("SOC2-ACCESS", "soc2", "Scoped keys, least privilege, master key rotation",
                              "auth + portico keys")),
    (_regime("soc2"), Control("SOC2-MONITOR", "soc2", "Alert rules deployed from targets", "alerts.yml")),
    (_regime("hipaa"), Control("HIPAA-BAA", "hipaa", "Only providers with a signed BAA, or self-hosted models",
                               "models")),
    (_regime("hipaa"), Control("HIPAA-PHI", "hipaa", "Pseudonymize PHI (names, dates, record numbers) before upstreams",
                               "guards.default.input[pii]")),
    (_regime("hipaa"), Control("HIPAA-TLS", "hipaa", "TLS on every hop (terminate TLS in front of the gateway)",
                               "process / ingress")),
    (_regime("pci"), Control("PCI-PAN", "pci", "Card numbers never reach a model or a log: redacted on input "
                             "and output, prompts not stored", "guards.default.input[pii:CREDIT_CARD]")),
    (_regime("pci"), Control("PCI-SCOPE", "pci", "Keep the gateway outside the cardholder-data environment",
                             "process")),
)  # fmt: skip


def plan_controls(req: Requirements, *, rag: bool) -> tuple[tuple[Control, ...], tuple[Decision, ...], int]:
    """The controls that apply, the retention decision and the retention in days."""
    controls = [c for when, c in CHECKLIST if when(req, rag)]
    applicable = ["baseline", *sorted(set(req.compliance) - {"gdpr"})]
    days = max(MIN_RETENTION_DAYS[k] for k in applicable)
    driver = max(applicable, key=lambda k: (MIN_RETENTION_DAYS[k], k))
    reason = f"The longest minimum among {applicable} is {driver}'s {days} days ({RETENTION_SOURCE[driver]})."
    if "gdpr" in req.compliance:
        reason += (
            f" GDPR sets a maximum, not a minimum ({GDPR_SOURCE}): rows are deleted after {days} days, and they "
            "hold metadata only (no prompt or answer text), so nothing personal is kept longer than the "
            "audit duty requires."
        )
    controls.append(Control("SAFE-RETENTION", driver, f"Audit rows deleted after {days} days", "storage (retention)"))
    decision = Decision("SAFE-RETENTION", "safety", f"audit retention {days} days", reason,
                        {"retention_days": days, "driver": driver})  # fmt: skip
    return tuple(controls), (decision,), days
