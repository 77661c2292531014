"""Every line is a real request: the key's allow-list and budget, the batch price, ledger and audit,
and the window's end (expiry with partial output)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from portico.server import create_app
from portico.testing import FakeUpstream, serve_in_thread

from .conftest import chat_line, gateway_settings, wait_done, write_jsonl

MASTER = "sk-master-batch-test"


def test_lines_run_as_the_creating_key_at_the_batch_price(tmp_path: Path, upstream: FakeUpstream) -> None:
    settings = gateway_settings(
        tmp_path,
        upstream.base_url,
        auth={"master_key": MASTER},
    )
    settings.models.append(settings.models[0].model_copy(update={"name": "gpt-4o"}))
    with serve_in_thread(create_app(settings)) as url:
        admin = {"Authorization": f"Bearer {MASTER}"}
        made = httpx.post(url + "/admin/keys", json={"name": "b", "allowed_models": ["gpt-4o-mini"]}, headers=admin)
        assert made.status_code == 201, made.text
        key_id, secret = made.json()["id"], made.json()["secret"]
        client = OpenAI(base_url=url + "/v1", api_key=secret, max_retries=0)
        path = write_jsonl(tmp_path / "in.jsonl", [chat_line(i) for i in range(6)])
        file = client.files.create(file=path.open("rb"), purpose="batch")
        done = wait_done(
            client,
            client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h").id,
        )
        assert done.status == "completed" and done.request_counts is not None
        assert done.request_counts.completed == 6
        # the same lines interactively, to compare prices
        for i in range(6):
            client.chat.completions.create(**chat_line(i)["body"])
        refused = write_jsonl(tmp_path / "other.jsonl", [chat_line(i, model="gpt-4o") for i in range(2)])
        other = client.files.create(file=refused.open("rb"), purpose="batch")
        denied = wait_done(
            client,
            client.batches.create(input_file_id=other.id, endpoint="/v1/chat/completions", completion_window="24h").id,
        )
        assert denied.status == "completed" and denied.request_counts is not None
        assert denied.request_counts.failed == 2 and denied.error_file_id
        lines = [json.loads(x) for x in client.files.content(denied.error_file_id).text.splitlines()]
        assert {x["response"]["status_code"] for x in lines} == {403}
        assert {x["error"]["code"] for x in lines} == {"model_not_allowed"}
        # another key cannot see the batch
        other_key = httpx.post(url + "/admin/keys", json={"name": "c"}, headers=admin).json()["secret"]
        stranger = OpenAI(base_url=url + "/v1", api_key=other_key, max_retries=0)
        with pytest.raises(Exception, match="No batch"):
            stranger.batches.retrieve(done.id)
    with sqlite3.connect(tmp_path / "p.db") as db:
        rows = db.execute(
            "SELECT request_id, key_id, cost_usd FROM portico_requests WHERE status = 200 AND billable ORDER BY ts"
        ).fetchall()
    batch_rows = [r for r in rows if r[0].startswith(done.id)]
    live_rows = [r for r in rows if not r[0].startswith("batch_")]
    assert len(batch_rows) == 6 and {r[1] for r in batch_rows} == {key_id}
    assert len(live_rows) == 6
    batch_cost = sum(r[2] for r in batch_rows)
    assert batch_cost == pytest.approx(sum(r[2] for r in live_rows) / 2)
    assert (done.model_extra or {})["cost_usd"] == pytest.approx(batch_cost)


def test_window_end_expires_the_batch_with_partial_output(tmp_path: Path) -> None:
    up = FakeUpstream(reply="slow", delay=0.05).start_in_thread()
    try:
        settings = gateway_settings(
            tmp_path, up.base_url, batch={"window_seconds": 1.0, "concurrency_per_batch": 2, "concurrency_total": 2}
        )
        with serve_in_thread(create_app(settings)) as url:
            client = OpenAI(base_url=url + "/v1", api_key="anything", max_retries=0)
            path = write_jsonl(tmp_path / "in.jsonl", [chat_line(i) for i in range(400)])
            file = client.files.create(file=path.open("rb"), purpose="batch")
            batch = client.batches.create(
                input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
            )
            done = wait_done(client, batch.id)
            assert done.status == "expired" and done.expired_at is not None
            assert done.request_counts is not None
            ok, failed = done.request_counts.completed, done.request_counts.failed
            assert 0 < ok < 400 and ok + failed == 400
            assert done.output_file_id and done.error_file_id
            out = client.files.content(done.output_file_id).text.splitlines()
            errs = [json.loads(x) for x in client.files.content(done.error_file_id).text.splitlines()]
            assert len(out) == ok and len(errs) == failed
            assert {e["error"]["code"] for e in errs} == {"batch_expired"}
    finally:
        up.stop_thread()
