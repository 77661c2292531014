"""The controls inside the real gateway app (in-process ASGI): status codes, headers, admin routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from portico.assembly import assemble
from portico.auth.controls import Controls
from portico.config import settings_from_dict
from portico.server import create_app

MASTER = "sk-http-master-0123456789"


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Controls]]:
    settings = settings_from_dict(
        {
            "models": [{"name": "echo", "provider": "echo"}],
            "embeddings": {"enabled": False},
            "auth": {"master_key": MASTER},
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path}/g.db", "wal_dir": str(tmp_path / "wal")},
        },
        env={},
    )
    gw = assemble(settings)
    installed = next(h.__self__ for f in gw.features for h in f.on_start if isinstance(h.__self__, Controls))  # type: ignore[attr-defined]
    app = create_app(settings, gateway=gw)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client, installed
    await gw.stop()


async def test_http_status_codes_and_rate_limit_headers(gateway: tuple[httpx.AsyncClient, Controls]) -> None:
    client, controls = gateway
    body = {"model": "echo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    created = await client.post(
        "/admin/keys", json={"name": "h", "rpm": 2, "tpm": 5000}, headers={"Authorization": f"Bearer {MASTER}"}
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    auth = {"Authorization": f"Bearer {secret}"}
    ok = await client.post("/v1/chat/completions", json=body, headers=auth)
    assert ok.status_code == 200
    assert ok.headers["x-ratelimit-limit-requests"] == "2" and ok.headers["x-ratelimit-remaining-requests"] == "1"
    assert ok.headers["x-ratelimit-limit-tokens"] == "5000"
    assert (await client.post("/v1/chat/completions", json=body, headers=auth)).status_code == 200
    refused = await client.post("/v1/chat/completions", json=body, headers=auth)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(refused.headers["retry-after"]) >= 1 and refused.headers["x-ratelimit-remaining-requests"] == "0"
    denied = await client.post("/v1/chat/completions", json={**body, "model": "echo"}, headers={"x-api-key": "nope"})
    assert denied.status_code == 401
    await controls.recorder.flush()
    rows = await controls.store.audit(limit=10)
    assert sorted(r["status"] for r in rows) == [200, 200, 401, 401, 429]
    spend = await client.get("/admin/spend", params={"group_by": "model"}, headers={"x-api-key": MASTER})
    assert spend.json()["data"][0]["requests"] == 2
    assert (await client.get("/admin/keys", headers=auth)).status_code == 401  # a virtual key is not admin
