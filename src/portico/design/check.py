"""`portico design --check`: validate the emitted portico.yaml with the settings model
`portico serve` uses, then start it in-process and ask it for /healthz and /v1/models.

External stores the plan names (Redis, PostgreSQL) are swapped for their embedded
equivalents for the start, and the report says so: the check proves the config and every
feature in it start, not that your managed services are reachable."""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from portico.config import settings_from_dict


@dataclass
class CheckReport:
    ok: bool
    lines: list[str] = field(default_factory=list)


def embedded_stores(raw: dict[str, Any], work: Path) -> tuple[dict[str, Any], list[str]]:
    cfg = yaml.safe_load(yaml.safe_dump(raw))  # deep copy
    notes: list[str] = []
    storage = cfg.setdefault("storage", {})
    if "url" in storage:
        notes.append(f"storage.url {storage['url']} -> a temporary SQLite file")
    storage["url"] = f"sqlite+aiosqlite:///{work / 'portico.db'}"
    storage["wal_dir"] = str(work / "wal")
    for section in ("limits", "cache"):
        if (cfg.get(section) or {}).get("backend") == "redis":
            cfg[section]["backend"] = "memory"
            notes.append(f"{section}.backend redis -> memory")
    rag = cfg.get("rag")
    if isinstance(rag, dict):
        if rag.get("backend") == "pgvector":
            notes.append("rag.backend pgvector -> embedded")
        rag.update({"backend": "embedded", "dir": str(work / "rag")})
        rag.pop("pg_url", None)
    shared = (cfg.get("resilience") or {}).get("shared") or {}
    if shared.get("backend") == "redis":
        shared["backend"] = "memory"
        notes.append("resilience.shared.backend redis -> memory")
    return cfg, notes


async def _start(raw: dict[str, Any]) -> list[str]:
    from portico.server import create_app

    settings = settings_from_dict(raw, env=os.environ, source="generated portico.yaml (in-process start)")
    app = create_app(settings)
    await app.gateway.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://check") as client:
            health = await client.get("/healthz")
            headers = {}
            if settings.auth.master_key is not None:
                headers["authorization"] = f"Bearer {settings.auth.master_key.get_secret_value()}"
            models = await client.get("/v1/models", headers=headers)
    finally:
        await app.gateway.stop()
    if health.status_code != 200:
        raise RuntimeError(f"/healthz answered {health.status_code}: {health.text[:200]}")
    if models.status_code != 200:
        raise RuntimeError(f"/v1/models answered {models.status_code}: {models.text[:200]}")
    ids = sorted(m["id"] for m in models.json().get("data", []))
    return [f"started in-process: /healthz 200, /v1/models lists {', '.join(ids)}"]


def check_config(text: str) -> CheckReport:
    """Validate and start the config text; never raises (the report says what failed)."""
    raw = yaml.safe_load(text) or {}
    report = CheckReport(ok=False)
    try:
        settings = settings_from_dict(raw, env={}, source="generated portico.yaml")
    except Exception as exc:
        report.lines.append(f"invalid: {exc}")
        return report
    report.lines.append(
        f"valid: portico.config.Settings accepts it ({len(settings.models)} models, "
        f"{len(settings.guards.default.input)} input guards, cache {'on' if settings.cache.enabled else 'off'}, "
        f"{len(settings.routing.routes)} routes)"
    )
    with tempfile.TemporaryDirectory(prefix="portico-design-check-") as tmp:
        cfg, notes = embedded_stores(raw, Path(tmp))
        report.lines += [f"for the start: {n}" for n in notes]
        try:
            report.lines += asyncio.run(_start(cfg))
        except Exception as exc:
            report.lines.append(f"does not start: {type(exc).__name__}: {exc}")
            return report
    report.ok = True
    return report
