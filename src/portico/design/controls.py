"""Safety and compliance controls: a checklist per regime, mapped to Portico config.

The checklist is a table: each row is a control and the condition on the requirements that
makes it apply, so a new regime or control is one more row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portico.design.decision import Decision
from portico.design.requirements import Requirements

# Minimum audit-log retention (days) each regime asks for; metadata only, never prompt bodies.
RETENTION_DAYS: dict[str, int] = {"baseline": 30, "gdpr": 30, "soc2": 365, "pci": 365, "hipaa": 2190}
RETENTION_SOURCE: dict[str, str] = {
    "baseline": "Portico default",
    "gdpr": "GDPR Art. 5(1)(e) storage limitation: keep personal data no longer than needed",
    "soc2": "SOC 2 CC7.2 monitoring evidence, customarily kept 1 year for the audit period",
    "pci": "PCI DSS v4 10.5.1: audit logs kept >= 12 months",
    "hipaa": "HIPAA 45 CFR 164.316(b)(2): documentation kept 6 years",
}


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    regime: str
    control: str
    config: str  # where it lives in portico.yaml (or "process" for an organisational step)
    in_portico_yaml: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "regime": self.regime,
            "control": self.control,
            "config": self.config,
            "in_portico_yaml": self.in_portico_yaml,
        }


When = Callable[[Requirements, bool], bool]  # (requirements, rag chosen) -> applies


def _always(req: Requirements, rag: bool) -> bool:
    return True


def _regime(name: str) -> When:
    return lambda req, rag: name in req.compliance


def _personal(req: Requirements, rag: bool) -> bool:
    return req.data.pii or req.data.sensitivity == "high"


CHECKLIST: tuple[tuple[When, Control], ...] = (
    (_always, Control("SAFE-AUTH", "baseline", "Virtual keys; master key from the environment",
                      "auth.master_key: env:PORTICO_MASTER_KEY", True)),
    (_always, Control("SAFE-SECRETS", "baseline", "Provider keys only from the environment, never in files or logs",
                      "models[].api_key: env:NAME", True)),
    (_always, Control("SAFE-INJECTION", "baseline", "Prompt-injection guard on input", "guards.input: [injection]")),
    (_always, Control("SAFE-LIMITS", "baseline", "Per-key rate limits and monthly budget caps", "limits")),
    (_always, Control("SAFE-AUDIT", "baseline", "Audit log of every request (key, model, tokens, cost, verdicts)",
                      "storage")),
    (_personal, Control("SAFE-PII", "pii", "Pseudonymize PII before any upstream; restore it in the answer",
                        "guards.input: [pii: pseudonymize]")),
    (_personal, Control("SAFE-NO-BODIES", "pii", "Audit rows keep hashes, not prompt or answer text",
                        "storage.store_prompts: false")),
    (lambda req, rag: req.output.format == "json",
     Control("SAFE-SCHEMA", "baseline", "Validate JSON answers against the schema; retry once",
             "guards.output: [json_schema]")),
    (lambda req, rag: req.data.sensitivity == "high",
     Control("SAFE-OUTPUT", "baseline", "Content guard on output", "guards.output: [content]")),
    (lambda req, rag: rag,
     Control("SAFE-GROUNDED", "baseline", "Answers cite retrieved sources; groundedness in eval",
             "rag.citations: true")),
    (lambda req, rag: "gdpr" in req.compliance and req.data.residency == "eu",
     Control("GDPR-RESIDENCY", "gdpr", "Only EU-hosted or self-hosted upstreams",
             "models[] (chosen by rule M-RESIDENCY)", True)),
    (lambda req, rag: "gdpr" in req.compliance and req.data.residency != "eu",
     Control("GDPR-TRANSFER", "gdpr", "Non-EU processors need SCCs / adequacy; consider data.residency: eu",
             "process")),
    (_regime("gdpr"), Control("GDPR-DPA", "gdpr", "Data processing agreement with every hosted provider", "process")),
    (_regime("gdpr"), Control("GDPR-ERASURE", "gdpr", "Erase a data subject's audit rows on request",
                              "portico keys / storage")),
    (_regime("soc2"), Control("SOC2-AUDIT", "soc2", "Append-only audit log, retained for the audit period",
                              "storage (durability: wal or commit)")),
    (_regime("soc2"), Control("SOC2-ACCESS", "soc2", "Scoped keys, least privilege, master key rotation",
                              "auth + keys scopes")),
    (_regime("soc2"), Control("SOC2-MONITOR", "soc2", "Alert rules deployed from targets (alerts.yml)",
                              "alerts.yml (emitted)", True)),
    (_regime("hipaa"), Control("HIPAA-BAA", "hipaa", "Only providers with a signed BAA (or self-hosted)",
                               "models[] (chosen by rule M-HIPAA)", True)),
    (_regime("hipaa"), Control("HIPAA-PHI", "hipaa", "Redact PHI (names, dates, record numbers) before upstreams",
                               "guards.input: [pii: redact, entities: medical]")),
    (_regime("hipaa"), Control("HIPAA-TLS", "hipaa", "TLS on every hop (terminate TLS in front of the gateway)",
                               "process / ingress")),
    (_regime("pci"), Control("PCI-PAN", "pci", "Block or redact card numbers on input and output, never log them",
                             "guards.input/output: [pii: redact, entities: [CREDIT_CARD]]")),
    (_regime("pci"), Control("PCI-SCOPE", "pci", "Keep the gateway outside the cardholder-data environment",
                             "process")),
)  # fmt: skip


def plan_controls(req: Requirements, *, rag: bool) -> tuple[tuple[Control, ...], tuple[Decision, ...]]:
    controls = [c for when, c in CHECKLIST if when(req, rag)]
    applicable = ["baseline", *sorted(set(req.compliance))]
    days = max(RETENTION_DAYS[k] for k in applicable)
    driver = max(applicable, key=lambda k: (RETENTION_DAYS[k], k))
    controls.append(Control("SAFE-RETENTION", driver, f"Audit metadata retained {days} days", "storage (retention)"))
    decision = Decision(
        "SAFE-RETENTION",
        "safety",
        f"audit retention {days} days",
        f"The longest minimum among {applicable} is {driver}'s ({RETENTION_SOURCE[driver]}); "
        "rows hold metadata only, which keeps GDPR's minimisation satisfied.",
        {"retention_days": days, "driver": driver},
    )
    return tuple(controls), (decision,)
