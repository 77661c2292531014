"""The route-access matrix: every route the app serves, called with no key, a wrong key, a
revoked key, a valid virtual key and the master key; and the composition rules behind it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from portico.assembly import assemble
from portico.feature import Access, Feature, GatewayFrozen, Mount, Route
from portico.gateway import Gateway
from portico.server import PorticoApp
from portico.server.app import build_mounted_app
from portico.testing import make_settings

MASTER = "sk-matrix-master-0123456789"
DENIED = (401, 403)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[PorticoApp, httpx.AsyncClient, dict[str, str]]]:
    settings = make_settings(
        [{"name": "echo", "provider": "echo"}],
        auth={"master_key": MASTER},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/m.db", "wal_dir": str(tmp_path / "wal")},
        metrics={"access": "key"},
        files={"dir": str(tmp_path / "files")},
        cache={"enabled": True, "tier": "exact"},  # its /admin/cache routes (no embedder needed)
    )
    app = PorticoApp(assemble(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        master = {"Authorization": f"Bearer {MASTER}"}
        valid = (await client.post("/admin/keys", json={"name": "valid"}, headers=master)).json()["secret"]
        revoked = (await client.post("/admin/keys", json={"name": "revoked"}, headers=master)).json()
        assert (await client.post(f"/admin/keys/{revoked['id']}/revoke", headers=master)).status_code == 200
        keys = {"none": "", "wrong": "sk-pt-wrong-0123456789", "revoked": revoked["secret"], "valid": valid}
        keys["master"] = MASTER
        yield app, client, keys
    await app.gateway.stop()


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "echo", path)


def _expected(access: Access, who: str) -> str:
    """'pass' (anything but 401/403) or 'deny' (401/403)."""
    if access is Access.PUBLIC:
        return "pass"
    if access in (Access.KEY, Access.METRICS):  # metrics.access is "key" in this config
        return "pass" if who in ("valid", "master") else "deny"
    return "pass" if who == "master" else "deny"


async def test_every_route_declares_a_level_and_the_door_enforces_it(
    served: tuple[PorticoApp, httpx.AsyncClient, dict[str, str]],
) -> None:
    app, client, keys = served
    table = app.route_table()
    paths = {(r.method, r.path) for r in table}
    # the routes the gateway must serve, whatever else features add
    must = {
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/embeddings"),
        ("GET", "/v1/models"),
        ("GET", "/admin/keys"),
        ("GET", "/admin/circuits"),
        ("POST", "/admin/cache/entries"),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
    }
    assert must <= paths
    assert all(isinstance(r.access, Access) for r in table)
    assert {r.access for r in table if r.path.startswith("/admin")} == {Access.ADMIN}
    assert {r.access for r in table if r.path.startswith("/v1/")} == {Access.KEY}
    assert {r.access for r in table if r.path in ("/healthz", "/readyz")} == {Access.PUBLIC}
    wrong: list[str] = []
    calls = 0
    for route in table:
        path = _concrete(route.path)
        variants = [path, path.removeprefix("/v1")] if path.startswith("/v1/") else [path]
        for url in variants:
            for who, secret in keys.items():
                headers = {"Authorization": f"Bearer {secret}"} if secret else {}
                body: Any = {} if route.method in ("POST", "PUT", "PATCH") else None
                r = await client.request(route.method, url, json=body, headers=headers)
                calls += 1
                got = "deny" if r.status_code in DENIED else "pass"
                if got != _expected(route.access, who) or r.status_code >= 500:
                    wrong.append(f"{route.method} {url} [{route.access}] with {who} key -> {r.status_code}")
                assert r.headers.get("x-request-id"), f"{route.method} {url}: no x-request-id"
    assert not wrong, "\n".join(wrong)
    assert calls >= len(table) * len(keys)


async def test_refusals_at_the_door_are_audited(served: tuple[PorticoApp, httpx.AsyncClient, dict[str, str]]) -> None:
    app, client, keys = served
    r = await client.get("/v1/models", headers={"x-request-id": "req-door-1"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "req-door-1"
    controls = next(h.__self__ for f in app.gateway.features for h in f.on_start if f.name == "controls")  # type: ignore[attr-defined]
    await controls.recorder.flush()
    rows = await controls.store.audit(request_id="req-door-1")
    assert [(row["status"], row["route_reason"]) for row in rows] == [(401, "GET /v1/models")]
    assert not any(secret and secret in repr(rows) for secret in keys.values())


async def test_master_key_without_storage_is_the_only_key() -> None:
    settings = make_settings(auth={"master_key": MASTER}, storage={"enabled": False})
    app = PorticoApp(assemble(settings))
    body = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        assert (await client.post("/v1/chat/completions", json=body)).status_code == 401
        wrong = {"Authorization": "Bearer sk-pt-anything"}
        assert (await client.post("/v1/chat/completions", json=body, headers=wrong)).status_code == 401
        master = {"Authorization": f"Bearer {MASTER}"}
        assert (await client.post("/v1/chat/completions", json=body, headers=master)).status_code == 200
        assert (await client.get("/admin/circuits", headers=master)).status_code == 200
    await app.gateway.stop()


def test_a_route_without_a_level_cannot_be_declared() -> None:
    async def handler(*_: Any) -> None:
        return None

    with pytest.raises(TypeError):
        Route("GET", "/v1/thing", handler, "key")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Mount(APIRouter(), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Route("GET", "/v1/thing", handler)  # type: ignore[call-arg]
    router = APIRouter()

    @router.get("/v1/things")
    async def things() -> dict[str, str]:
        return {}

    _app, levels = build_mounted_app([Mount(router, Access.KEY)])
    assert [level for _, level in levels] == [Access.KEY]


async def test_the_gateway_is_frozen_once_served() -> None:
    gateway = assemble(make_settings())
    late = Feature("late", stages=())
    PorticoApp(gateway)  # building the app freezes the composition
    with pytest.raises(GatewayFrozen):
        gateway.add(late)
    other = Gateway(make_settings())
    await other.start()
    with pytest.raises(GatewayFrozen):
        other.add(late)
    await other.stop()


async def test_a_route_registered_twice_is_refused() -> None:
    async def handler(*_: Any) -> None:
        return None

    gateway = Gateway(make_settings()).add(
        Feature("a", routes=(Route("GET", "/v1/x", handler, Access.KEY),)),
        Feature("b", routes=(Route("GET", "/v1/x", handler, Access.PUBLIC),)),
    )
    with pytest.raises(Exception, match="registered twice"):
        gateway.freeze()
