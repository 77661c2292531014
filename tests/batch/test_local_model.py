"""A batch on the embedded local model (SmolLM2 via llama.cpp): lines run through the same chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai import OpenAI

from portico.server import create_app
from portico.testing import make_settings, serve_in_thread

from .conftest import wait_done, write_jsonl

pytestmark = pytest.mark.slow


def test_batch_on_the_local_model(tmp_path: Path) -> None:
    settings = make_settings(
        [{"name": "local", "provider": "local"}],
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/p.db", "wal_dir": str(tmp_path / "wal")},
        files={"dir": str(tmp_path / "files")},
        batch={"poll_seconds": 0.2},
    )
    rows = [
        {
            "custom_id": f"q-{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "local", "messages": [{"role": "user", "content": q}], "max_tokens": 6, "temperature": 0},
        }
        for i, q in enumerate(["What is the capital of France?", "Say hello.", "Name a colour."])
    ]
    with serve_in_thread(create_app(settings), timeout=120) as url:
        client = OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=120)
        file = client.files.create(file=write_jsonl(tmp_path / "in.jsonl", rows).open("rb"), purpose="batch")
        batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        done = wait_done(client, batch.id, timeout=180)
        assert done.status == "completed" and done.output_file_id
        out = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    assert sorted(o["custom_id"] for o in out) == ["q-0", "q-1", "q-2"]
    for o in out:
        body = o["response"]["body"]
        assert o["response"]["status_code"] == 200 and body["model"] == "local"
        assert (body["choices"][0]["message"]["content"] or "").strip()
        assert 0 < body["usage"]["completion_tokens"] <= 6


def test_embeddings_batch_on_the_local_embedder(tmp_path: Path) -> None:
    settings = make_settings(
        [{"name": "echo", "provider": "echo"}],
        embeddings={"enabled": True},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/p.db", "wal_dir": str(tmp_path / "wal")},
        files={"dir": str(tmp_path / "files")},
        batch={"poll_seconds": 0.2},
    )
    rows = [
        {
            "custom_id": "e-0",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": "local-embed", "input": "hi"},
        },
        {
            "custom_id": "e-1",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": "local-embed", "input": ["a cat", "a dog"]},
        },
        {"custom_id": "e-bad", "method": "POST", "url": "/v1/embeddings", "body": {"model": "local-embed"}},
    ]
    with serve_in_thread(create_app(settings), timeout=120) as url:
        client = OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=120)
        file = client.files.create(file=write_jsonl(tmp_path / "in.jsonl", rows).open("rb"), purpose="batch")
        batch = client.batches.create(input_file_id=file.id, endpoint="/v1/embeddings", completion_window="24h")
        done = wait_done(client, batch.id, timeout=120)
        assert done.status == "completed" and done.output_file_id and done.error_file_id
        assert done.request_counts is not None and (done.request_counts.completed, done.request_counts.failed) == (2, 1)
        out = {o["custom_id"]: o for o in map(json.loads, client.files.content(done.output_file_id).text.splitlines())}
        live = client.embeddings.create(model="local-embed", input="hi").data[0].embedding
    assert len(out["e-0"]["response"]["body"]["data"]) == 1 and len(out["e-1"]["response"]["body"]["data"]) == 2
    batch_vec = out["e-0"]["response"]["body"]["data"][0]["embedding"]
    assert len(batch_vec) == 384 and max(abs(a - b) for a, b in zip(batch_vec, live, strict=True)) < 1e-5
