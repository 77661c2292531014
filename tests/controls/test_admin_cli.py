"""The admin API (master key only) and the `portico keys` / `portico spend` CLI."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from portico.auth.cli import register
from portico.auth.keys import KeyManager
from portico.feature import Access, Feature, Mount
from portico.gateway import Gateway
from portico.server import PorticoApp
from portico.server.admin import admin_router
from portico.storage.records import RequestRecord
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore
from portico.testing import make_settings

MASTER = "sk-admin-master-0123456789"


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, SqlStore]]:
    store = SqlStore(StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path}/a.db"))
    await store.start()
    # The admin router behind the real door (which checks the master key), without the rest.
    settings = make_settings(
        [{"name": "echo", "provider": "echo"}], embeddings={"enabled": False}, auth={"master_key": MASTER}
    )
    gateway = Gateway(settings).add(
        Feature("admin", mounts=(Mount(admin_router(store, KeyManager(store)), Access.ADMIN),))
    )
    app = PorticoApp(gateway)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin") as client:
        yield client, store
    await store.close()


async def test_admin_requires_the_master_key(admin: tuple[httpx.AsyncClient, SqlStore]) -> None:
    client, _ = admin
    assert (await client.get("/admin/keys")).status_code == 401
    r = await client.get("/admin/keys", headers={"Authorization": "Bearer sk-pt-not-the-master"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert (await client.get("/admin/keys", headers={"x-api-key": MASTER})).status_code == 200


async def test_admin_key_lifecycle_and_spend(admin: tuple[httpx.AsyncClient, SqlStore]) -> None:
    client, store = admin
    auth = {"Authorization": f"Bearer {MASTER}"}
    team = (await client.post("/admin/teams", json={"name": "ml", "budget_usd": 10}, headers=auth)).json()
    r = await client.post("/admin/keys", json={"name": "svc", "team_id": team["id"], "rpm": 5}, headers=auth)
    assert r.status_code == 201
    created = r.json()
    secret = created["secret"]
    assert secret.startswith("sk-pt-") and "secret_hash" not in created
    listed = (await client.get("/admin/keys", headers=auth)).text
    assert secret not in listed and created["id"] in listed
    shown = (await client.get(f"/admin/keys/{created['id']}", headers=auth)).json()
    assert shown["rpm"] == 5 and "secret" not in shown
    rotated = (await client.post(f"/admin/keys/{created['id']}/rotate", headers=auth)).json()
    assert rotated["secret"] != secret and rotated["id"] == created["id"]
    revoked = (await client.post(f"/admin/keys/{created['id']}/revoke", headers=auth)).json()
    assert revoked["revoked_at"] is not None
    assert (await client.post(f"/admin/keys/{created['id']}/rotate", headers=auth)).status_code == 404
    assert (await client.get("/admin/keys/key_nope", headers=auth)).status_code == 404
    bad = await client.post("/admin/keys", json={"team_id": "team_nope"}, headers=auth)
    assert bad.status_code == 400
    await store.write_records(
        [
            RequestRecord(
                request_id="r1", ts=time.time(), key_id=created["id"], team_id=team["id"], model="m", cost_usd=0.5
            ),
            RequestRecord(
                request_id="r2", ts=time.time(), key_id=created["id"], team_id=team["id"], model="n", cost_usd=0.25
            ),
        ]
    )
    for group in ("key", "team", "model", "day"):
        spend = (await client.get("/admin/spend", params={"group_by": group}, headers=auth)).json()
        assert abs(spend["total_usd"] - 0.75) < 1e-9
    by_model = (await client.get("/admin/spend", params={"group_by": "model"}, headers=auth)).json()
    assert [row["model"] for row in by_model["data"]] == ["m", "n"]
    audit = (await client.get("/admin/audit", params={"key_id": created["id"]}, headers=auth)).json()
    assert {row["request_id"] for row in audit["data"]} == {"r1", "r2"}
    team_view = (await client.get(f"/admin/teams/{team['id']}", headers=auth)).json()
    assert [k["id"] for k in team_view["keys"]] == [created["id"]]


def test_cli_keys_and_spend(tmp_path: Path) -> None:
    config = tmp_path / "portico.yaml"
    config.write_text(f"storage:\n  url: sqlite+aiosqlite:///{tmp_path}/cli.db\n", encoding="utf-8")
    app = typer.Typer()
    register(app)
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, "--config", str(config)])
        assert result.exit_code == 0, result.output
        return result.output

    team_out = run("teams", "create", "ops", "--rpm", "50")
    team_id = team_out.split("team id: ")[1].split()[0]
    out = run(
        "keys",
        "create",
        "--name",
        "bot",
        "--team",
        team_id,
        "--models",
        "gpt-4o,local*",
        "--budget",
        "2",
        "--period",
        "day",
    )
    secret = next(line for line in out.splitlines() if line.startswith("sk-pt-"))
    key_id = out.split("key id: ")[1].split()[0]
    listed = run("keys", "list")
    assert key_id in listed and secret not in listed
    assert "spent this day: $0.0000 of $2.0000" in run("keys", "show", key_id)
    rotated = run("keys", "rotate", key_id)
    assert secret not in rotated and "sk-pt-" in rotated
    assert f"revoked: {key_id}" in run("keys", "revoke", key_id)
    assert key_id not in run("keys", "list", "--active")
    assert "total" in run("spend", "--by", "model")
    bad = runner.invoke(app, ["spend", "--by", "planet", "--config", str(config)])
    assert bad.exit_code == 2
