"""A client that goes away mid-stream: its partial usage is recorded and its slot released."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from portico.config import settings_from_dict
from portico.server import create_app
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore
from portico.testing import Behaviour, FakeUpstream, serve_in_thread

MASTER = "sk-disc-master-0123456789"


async def _audit_row(storage: StorageSettings, request_id: str, timeout: float = 10.0) -> dict[str, object]:
    store = SqlStore(storage)
    await store.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            rows = await store.audit(request_id=request_id)
            if rows or time.monotonic() > deadline:
                assert rows, "no audit row"
                return rows[0]
            await asyncio.sleep(0.05)  # condition poll: the server thread writes it
    finally:
        await store.close()


async def test_client_disconnect_mid_stream(tmp_path: Path) -> None:
    async with FakeUpstream(reply="one two three four five six seven eight", chunks=8) as up:
        up.set_default(Behaviour(chunk_delay=0.3))  # slow: the client leaves mid-stream
        storage = {"url": f"sqlite+aiosqlite:///{tmp_path}/d.db", "wal_dir": str(tmp_path / "wal")}
        settings = settings_from_dict(
            {
                "models": [
                    {
                        "name": "m",
                        "provider": "openai",
                        "base_url": up.base_url,
                        "api_key": "sk-up",
                        "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
                    }
                ],
                "embeddings": {"enabled": False},
                "auth": {"master_key": MASTER},
                "storage": storage,
            },
            env={},
        )
        with serve_in_thread(create_app(settings)) as url:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                created = await client.post(
                    "/admin/keys", json={"max_concurrency": 1}, headers={"Authorization": f"Bearer {MASTER}"}
                )
                auth = {"Authorization": f"Bearer {created.json()['secret']}", "x-request-id": "req-gone"}
                body = {"model": "m", "messages": [{"role": "user", "content": "count"}], "stream": True}
                async with client.stream("POST", "/v1/chat/completions", json=body, headers=auth) as r:
                    assert r.status_code == 200
                    seen = 0
                    async for line in r.aiter_lines():
                        if line.startswith("data: {"):
                            seen += 1
                        if seen == 3:
                            break  # leave mid-stream: the connection closes
                row = await _audit_row(StorageSettings(**storage), "req-gone")
                assert row["status"] == 499 and row["stream"]
                assert int(row["completion_tokens"]) > 0 and float(row["cost_usd"]) > 0  # type: ignore[arg-type]
                # the concurrency slot (max 1) came back: the next request is admitted
                up.set_default(Behaviour())
                auth["x-request-id"] = "req-next"
                again = await client.post("/v1/chat/completions", json={**body, "stream": False}, headers=auth)
                assert again.status_code == 200
