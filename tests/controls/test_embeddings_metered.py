"""Embeddings go through the same door and admission as chat: key, model allow-list, RPM,
budget at the embedding model's price, ledger and audit rows, metrics, x-request-id."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from portico.server import create_app
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore
from portico.testing import make_settings, post_json, serve_in_thread

MASTER = "sk-emb-master-0123456789"
PRICE = 20.0  # USD per million input tokens


def _admin(base: str, path: str, body: dict[str, object]) -> dict[str, object]:
    return post_json(base, path, body, key=MASTER)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, StorageSettings]]:
    storage = {"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/e.db", "wal_dir": str(tmp_path / "wal")}
    settings = make_settings(
        [{"name": "echo", "provider": "echo"}],
        auth={"master_key": MASTER},
        storage=storage,
        embeddings={"enabled": True, "price": {"input_per_mtok": PRICE}},
        files={"dir": str(tmp_path / "files")},
    )
    with serve_in_thread(create_app(settings), timeout=120) as url:
        yield url, StorageSettings(**{k: v for k, v in storage.items() if k != "enabled"})


async def test_embeddings_are_keyed_limited_priced_and_recorded(served: tuple[str, StorageSettings]) -> None:
    url, storage = served
    anonymous = openai.OpenAI(base_url=url + "/v1", api_key="sk-pt-not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.embeddings.create(model="local-embed", input="hello")
    chat_only = openai.OpenAI(
        base_url=url + "/v1", api_key=str(_admin(url, "/admin/keys", {"allowed_models": ["echo"]})["secret"]),
        max_retries=0,
    )  # fmt: skip
    with pytest.raises(openai.PermissionDeniedError):
        chat_only.embeddings.create(model="local-embed", input="hello")
    created = _admin(url, "/admin/keys", {"name": "emb", "rpm": 2, "allowed_models": ["local-embed"]})
    client = openai.OpenAI(base_url=url + "/v1", api_key=str(created["secret"]), max_retries=0)
    raw = client.embeddings.with_raw_response.create(
        model="local-embed", input=["hello world", "tides"], extra_headers={"x-request-id": "req-emb-1"}
    )
    out = raw.parse()
    assert len(out.data) == 2 and len(out.data[0].embedding) == 384
    tokens = out.usage.prompt_tokens
    assert tokens > 0 and raw.headers["x-request-id"] == "req-emb-1"
    assert raw.headers["x-ratelimit-limit-requests"] == "2"
    assert abs(float(raw.headers["x-portico-cost-usd"]) - tokens * PRICE / 1e6) < 1e-9
    client.embeddings.create(model="local-embed", input="again")
    with pytest.raises(openai.RateLimitError):  # RPM 2 holds for embeddings too
        client.embeddings.create(model="local-embed", input="third")
    store = SqlStore(storage)
    await store.start()
    try:
        rows: list[dict[str, object]] = []
        billed = 0
        for _ in range(200):  # the batch writer flushes within its interval
            rows = await store.audit(request_id="req-emb-1")
            billed = sum(r.requests for r in await store.spend("model") if r.group == "local-embed")
            if rows and billed == 2:
                break
            await asyncio.sleep(0.05)  # condition poll: the server thread writes the rows
        assert rows, "no audit row for the embedding request"
        row = rows[0]
        assert row["key_id"] == created["id"] and row["model_served"] == "local-embed" and row["status"] == 200
        assert row["prompt_tokens"] == tokens and abs(float(row["cost_usd"]) - tokens * PRICE / 1e6) < 1e-9  # type: ignore[arg-type]
        assert billed == 2  # the refused third is in the audit log, not billed
    finally:
        await store.close()
    with urllib.request.urlopen(urllib.request.Request(url + "/metrics")) as resp:
        metrics = resp.read().decode()
    assert 'portico_requests_total{model="local-embed",status="200"} 2.0' in metrics
    assert 'portico_requests_total{model="local-embed",status="429"} 1.0' in metrics
