"""Render the runnable ``portico.yaml`` for a design: every control the plan recommends, in
the grammar of this Portico's own settings model, validated by it before it is written."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import yaml

from portico.config import ServerSettings, settings_from_dict
from portico.design.catalog import CatalogModel
from portico.design.controls import Control
from portico.design.levers import available_sections
from portico.design.plan import P95_CRITICAL_X, Design
from portico.design.sections import CHUNK_OVERLAP, context_plan
from portico.guards.pii import DEFAULT_ENTITIES
from portico.model_settings import ModelSettings
from portico.storage.settings import StorageSettings

ROUTE_NAME = "auto"  # the virtual model clients send when the plan routes, cascades or votes
REDIS_URL = "redis://127.0.0.1:6379/0"  # edit: the managed Redis every replica shares
POSTGRES_URL = "postgresql+asyncpg://portico@127.0.0.1:5432/portico"  # edit: the shared database
# Field kind -> the PII detector entities that find it (portico.guards.pii).
KIND_ENTITIES: dict[str, tuple[str, ...]] = {
    "name": ("PERSON",),
    "email": ("EMAIL_ADDRESS",),
    "phone": ("PHONE_NUMBER",),
    "address": ("STREET_ADDRESS", "LOCATION"),
    "card_number": ("CREDIT_CARD",),
    "iban": ("IBAN_CODE",),
    "ssn": ("US_SSN",),
    "id_number": ("US_DRIVER_LICENSE", "US_PASSPORT", "US_SSN"),
    "credentials": ("API_KEY",),
    "health": ("PERSON", "LOCATION", "STREET_ADDRESS", "PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN"),
}
# Under PCI these are removed, never restored: a card number must not reach a model or a log.
PCI_ENTITIES = ("CREDIT_CARD",)


def _model(m: CatalogModel, *, batch: bool) -> dict[str, Any]:
    if m.provider == "local":
        return {"name": m.name, "provider": "local"}
    out: dict[str, Any] = {"name": m.name, "provider": m.provider}
    if m.base_url:
        out["base_url"] = m.base_url
    if m.api_key_env:
        out["api_key"] = f"env:{m.api_key_env}"
    if m.upstream_model and m.upstream_model != m.name:
        out["model"] = m.upstream_model
    if m.price is not None:
        out["price"] = {"input_per_mtok": m.price.input_per_mtok, "output_per_mtok": m.price.output_per_mtok}
        if batch and "batch_discount" in ModelSettings.model_fields:
            out["batch_discount"] = m.price.batch_discount
    out["context_window"] = m.context_window
    return out


def pii_entities(d: Design) -> list[str]:
    """Entities to pseudonymize: those of the declared fields, else the detector's full set."""
    req = d.requirements
    named = [e for k in sorted(req.data.kinds) for e in KIND_ENTITIES.get(k, ())]
    wanted = list(DEFAULT_ENTITIES) if (req.data.pii or not named) else sorted(set(named))
    if "pci" in req.compliance:
        wanted = [e for e in wanted if e not in PCI_ENTITIES]
    return wanted


def _guards(d: Design) -> dict[str, Any]:
    req = d.requirements
    high = req.sensitivity == "high"
    personal = req.data.personal or high
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    if "pci" in req.compliance:
        inputs.append({"type": "pii", "action": "redact", "entities": list(PCI_ENTITIES)})
        outputs.append({"type": "pii", "action": "redact", "entities": list(PCI_ENTITIES)})
    if personal:
        inputs.append({"type": "pii", "action": "pseudonymize", "entities": pii_entities(d)})
    inputs.append({"type": "injection", "action": "block"})
    inputs.append({"type": "content", "action": "block" if high else "flag"})
    outputs.append({"type": "content", "action": "flag"})
    return {
        "default": {
            "input": inputs,
            "output": outputs,
            "canary": True,
            "json_schema": req.output.format == "json",
            "parallel": d.guards_parallel,
        }
    }


def _routing(d: Design) -> dict[str, Any] | None:
    c = d.chosen
    if c is None or c.plan.kind == "single":
        return None
    p = c.plan
    if p.kind == "ensemble":
        route: dict[str, Any] = {"name": ROUTE_NAME, "policy": "ensemble", "models": [m.name for m in p.members]}
        route["aggregate"] = "majority"
    else:
        assert p.fast is not None
        route = {"name": ROUTE_NAME, "policy": "complexity" if p.kind == "route" else "cascade"}
        route.update({"fast": p.fast.name, "strong": p.primary.name})
        if p.kind == "route":
            route["threshold"] = {"strong_share": round(p.strong_share, 4)}
        elif d.requirements.output.format == "json":
            route["check"] = {"json_schema": {"type": "object"}}
        else:
            route["check"] = {"self_check": True}
    return {"routes": [route]}


def deadline_s(d: Design) -> float | None:
    """Seconds one model call may take with its retries and fallbacks: the critical latency
    level (3x the p95 per step). Beyond it the answer is late anyway, and unbounded failover
    is how costs and queues blow up."""
    target = d.requirements.latency_target_ms
    if target is None:
        return None
    return round(max(1.0, P95_CRITICAL_X * target / d.requirements.agent.steps_per_request / 1000.0), 3)


def _server(d: Design) -> dict[str, Any]:
    out: dict[str, Any] = {"host": "0.0.0.0" if d.gateway.replicas > 1 else "127.0.0.1", "port": 8000}
    deadline = deadline_s(d)
    if deadline is not None and "request_timeout" in ServerSettings.model_fields:
        out["request_timeout"] = deadline
    return out


def _resilience(d: Design) -> dict[str, Any]:
    out: dict[str, Any] = {}
    deadline = deadline_s(d)
    if deadline is not None:
        out["defaults"] = {"retry": {"deadline": deadline}}
    fb = d.fallback
    if fb is not None and d.chosen is not None:
        out["models"] = {m.name: {"fallbacks": [fb.name]} for m in d.chosen.plan.models if m.name != fb.name}
    if d.gateway.redis:
        out["shared"] = {"backend": "redis", "redis_url": REDIS_URL}
    return out


def _cache(d: Design) -> dict[str, Any]:
    c = d.cache
    if not c.enabled:
        return {"enabled": False}
    out: dict[str, Any] = {"enabled": True, "tier": c.tier, "partition": c.partition, "ttl_seconds": c.ttl_seconds}
    if d.gateway.redis:
        out.update({"backend": "redis", "redis_url": REDIS_URL})
    return out


def _storage(d: Design) -> dict[str, Any]:
    req = d.requirements
    out: dict[str, Any] = {}
    if d.gateway.postgres:
        out["url"] = POSTGRES_URL
    out["durability"] = "commit" if req.compliance else "wal"
    out["store_prompts"] = False
    if "retention_days" in StorageSettings.model_fields:
        out["retention_days"] = d.retention_days
    return out


def _rag(d: Design) -> dict[str, Any]:
    """Vector stores in the gateway: pgvector when replicas share them, else the embedded index."""
    chunk, top_k, _ = context_plan(d.requirements.traffic.avg_input_tokens)
    out: dict[str, Any] = {"backend": "pgvector" if d.gateway.postgres else "embedded", "mode": "hybrid"}
    if d.gateway.postgres:
        out["pg_url"] = POSTGRES_URL
    out["chunking"] = {"max_chunk_size_tokens": chunk, "chunk_overlap_tokens": CHUNK_OVERLAP}
    if d.chosen is not None:
        out["answer_model"] = d.chosen.plan.primary.name
    out["answer_k"] = top_k
    return out


def _batch(d: Design) -> bool:
    return d.chosen is not None and d.chosen.plan.batch


def config_dict(d: Design) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "server": _server(d),
        "auth": {"master_key": "env:PORTICO_MASTER_KEY"},
        "models": [_model(m, batch=_batch(d)) for m in d.serving_models()],
        "resilience": _resilience(d),
    }
    routing = _routing(d)
    if routing is not None:
        cfg["routing"] = routing
    cfg["cache"] = _cache(d)
    cfg["guards"] = _guards(d)
    if d.gateway.redis:
        cfg["limits"] = {"backend": "redis", "redis_url": REDIS_URL}
    cfg["storage"] = _storage(d)
    if d.compression > 0:
        cfg["compression"] = {"enabled": True, "ratio": round(1.0 - d.compression, 4)}
    if d.rag and "rag" in available_sections():
        cfg["rag"] = _rag(d)
    if _batch(d) and "batch" in available_sections():
        # the Batch API keeps its jobs in the storage database: on once a master key enables storage
        cfg["batch"] = {"enabled": True}
    unknown = set(cfg) - available_sections()
    if unknown:  # a design bug: never hand out a config the gateway rejects
        raise AssertionError(f"design emitted sections this Portico does not know: {sorted(unknown)}")
    return cfg


def live_controls(d: Design, cfg: dict[str, Any]) -> tuple[Control, ...]:
    """The controls, each marked live when the emitted config turns it on."""
    guards = cfg["guards"]["default"]
    types = {g["type"] for g in guards["input"]}
    live = {
        "SAFE-AUTH": bool(cfg["auth"].get("master_key")),
        "SAFE-SECRETS": all("api_key" not in m or str(m["api_key"]).startswith("env:") for m in cfg["models"]),
        "SAFE-INJECTION": "injection" in types and guards["canary"],
        "SAFE-CONTENT": "content" in types,
        "SAFE-LIMITS": True,
        "SAFE-AUDIT": "storage" in cfg,
        "SAFE-PII": "pii" in types,
        "SAFE-NO-BODIES": cfg["storage"].get("store_prompts") is False,
        "SAFE-SCHEMA": bool(guards["json_schema"]),
        "SAFE-GROUNDED": "rag" in cfg,
        "OPT-RAG": "rag" in cfg,
        "GDPR-RESIDENCY": True,
        "HIPAA-BAA": True,
        "HIPAA-PHI": "pii" in types,
        "PCI-PAN": any(g["type"] == "pii" and "CREDIT_CARD" in (g.get("entities") or []) for g in guards["input"]),
        "SOC2-AUDIT": cfg["storage"].get("durability") == "commit",
        "SOC2-MONITOR": True,
        "SOC2-ACCESS": True,
        "SAFE-RETENTION": "retention_days" in cfg["storage"],
        "OPT-COMPRESS": "compression" in cfg,
        "OPT-BATCH": "batch" in cfg,
    }
    return tuple(replace(c, live=live.get(c.id, False)) for c in d.controls)


def not_available(d: Design, cfg: dict[str, Any]) -> list[str]:
    """Recommended controls this Portico's config grammar cannot express yet."""
    out: list[str] = []
    if "retention_days" not in cfg["storage"]:
        out.append(
            f"audit retention of {d.retention_days} days (no storage retention setting yet: delete older ledger "
            "and audit rows with a scheduled job)"
        )
    if d.rag and "rag" not in available_sections():
        out.append("RAG stores and retrieval in the gateway (retrieve in the application meanwhile)")
    if d.chosen is not None and d.chosen.plan.batch and "batch" not in available_sections():
        out.append("a batch API in the gateway (send batch work to the providers' batch APIs directly)")
    if any(x.rule == "OPT-COMPRESS-UNAVAILABLE" for x in d.lever_decisions):
        out.append("prompt compression")
    return out


def render_config(d: Design) -> str:
    cfg = config_dict(d)
    settings_from_dict(cfg, env={}, source="generated portico.yaml")  # raises if the grammar rejects it
    req = d.requirements
    head = [
        "# portico.yaml generated by `portico design` (validated by portico.config.Settings).",
        f"# Use case: {req.use_case or '(unspecified)'}",
        f"# Plan: {d.summary()}",
        "# Start it: portico serve --config portico.yaml   (check first: portico design REQ.yaml --check)",
        "# Secrets come from the environment (env:NAME); without PORTICO_MASTER_KEY it runs in open dev mode.",
    ]
    if d.chosen is not None and d.chosen.plan.kind != "single":
        head.append(f"# Clients send model '{ROUTE_NAME}' to use the plan's {d.chosen.plan.kind}.")
    if d.gateway.redis:
        head.append(
            f"# {d.gateway.replicas} replicas: point redis_url and storage.url at your shared Redis/PostgreSQL."
        )
    for m in d.serving_models():
        if m.hosting == "self_hosted" and m.serving is not None:
            n = d.chosen.servers.get(m.name, 1) if d.chosen is not None else 1
            head.append(f"# {m.name}: run {m.serving.runtime} on {n} x {m.serving.gpu} at {m.base_url}")
    for item in not_available(d, cfg):
        head.append(f"# Not yet available in this Portico: {item}.")
    return "\n".join(head) + "\n" + yaml.safe_dump(cfg, sort_keys=False, width=120)
