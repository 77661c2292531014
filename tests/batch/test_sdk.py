"""The Batch API end to end with the official openai SDK."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from .conftest import chat_line, wait_done, write_jsonl


def test_batch_runs_every_line_and_reports_the_bad_one(served: tuple[OpenAI, Path]) -> None:
    client, tmp = served
    rows = [chat_line(i) for i in range(40)]
    bad = chat_line(99)
    bad["custom_id"] = "req-bad"
    bad["body"]["messages"] = "not a list"
    rows.append(bad)
    path = write_jsonl(tmp / "in.jsonl", rows)
    file = client.files.create(file=path.open("rb"), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"job": "t1"}
    )
    assert batch.status == "validating" and batch.metadata == {"job": "t1"}
    done = wait_done(client, batch.id)
    assert done.status == "completed", done
    assert done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (41, 40, 1)
    assert done.output_file_id and done.error_file_id
    out = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    assert sorted(o["custom_id"] for o in out) == sorted(f"req-{i}" for i in range(40))
    assert all(o["response"]["status_code"] == 200 for o in out)
    assert out[0]["response"]["body"]["choices"][0]["message"]["content"] == "Batch answer."
    errors = [json.loads(x) for x in client.files.content(done.error_file_id).text.splitlines()]
    assert [e["custom_id"] for e in errors] == ["req-bad"]
    assert errors[0]["response"]["status_code"] == 400 and errors[0]["error"]["message"]
    extra = done.model_extra or {}
    assert extra["cost_usd"] > 0
    listed = client.batches.list(limit=10)
    assert any(b.id == batch.id for b in listed.data)


def test_invalid_input_fails_the_batch_with_line_numbers(served: tuple[OpenAI, Path]) -> None:
    client, tmp = served
    good = [json.dumps(chat_line(i)) for i in range(3)]
    lines = [
        good[0],
        "{not json",
        json.dumps({"method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini"}}),
        json.dumps(chat_line(0)),  # duplicate custom_id req-0
        json.dumps({**chat_line(5), "url": "/v1/embeddings"}),
        json.dumps(chat_line(6, model="other-model")),
        good[1],
    ]
    path = tmp / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    file = client.files.create(file=path.open("rb"), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    done = wait_done(client, batch.id)
    assert done.status == "failed"
    assert done.errors is not None and done.errors.data is not None
    found = {(e.code, e.line) for e in done.errors.data}
    assert found == {
        ("invalid_json_line", 2),
        ("missing_custom_id", 3),
        ("duplicate_custom_id", 4),
        ("invalid_url", 5),
        ("mixed_models", 6),
    }


def test_create_rejects_bad_arguments_with_openai_errors(served: tuple[OpenAI, Path]) -> None:
    client, tmp = served
    path = write_jsonl(tmp / "in.jsonl", [chat_line(1)])
    batch_file = client.files.create(file=path.open("rb"), purpose="batch")
    other = client.files.create(file=path.open("rb"), purpose="user_data")
    with pytest.raises(openai.BadRequestError) as e1:
        client.batches.create(input_file_id=batch_file.id, endpoint="/v1/nope", completion_window="24h")  # type: ignore[arg-type]
    assert e1.value.body["param"] == "endpoint"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id=batch_file.id, endpoint="/v1/chat/completions", completion_window="1h")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as e3:
        client.batches.create(input_file_id=other.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert "purpose" in str(e3.value)
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nope")


def test_cancel_and_pagination(served: tuple[OpenAI, Path]) -> None:
    client, tmp = served
    path = write_jsonl(tmp / "in.jsonl", [chat_line(i) for i in range(5)])
    file = client.files.create(file=path.open("rb"), purpose="batch")
    ids = [
        client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h").id
        for _ in range(3)
    ]
    cancelled = client.batches.cancel(ids[-1])
    assert cancelled.status in ("cancelling", "cancelled", "completed")
    final = wait_done(client, ids[-1])
    assert final.status in ("cancelled", "completed")
    first = client.batches.list(limit=2)
    assert [b.id for b in first.data] == [ids[2], ids[1]] and first.has_more
    rest = client.batches.list(limit=2, after=first.data[-1].id)
    assert [b.id for b in rest.data] == [ids[0]] and not rest.has_more
    seen = [b.id for b in client.batches.list(limit=1)]  # the SDK's auto-pagination follows has_more
    assert seen[:3] == [ids[2], ids[1], ids[0]]


def test_completions_endpoint_lines(served: tuple[OpenAI, Path]) -> None:
    client, tmp = served
    rows = [
        {
            "custom_id": f"c-{i}",
            "method": "POST",
            "url": "/v1/completions",
            "body": {"model": "gpt-4o-mini", "prompt": f"Say {i}", "max_tokens": 8},
        }
        for i in range(3)
    ]
    file = client.files.create(file=write_jsonl(tmp / "c.jsonl", rows).open("rb"), purpose="batch")
    done = wait_done(
        client, client.batches.create(input_file_id=file.id, endpoint="/v1/completions", completion_window="24h").id
    )
    assert done.status == "completed" and done.output_file_id
    out = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    assert sorted(o["custom_id"] for o in out) == ["c-0", "c-1", "c-2"]
    assert {o["response"]["body"]["object"] for o in out} == {"text_completion"}
    assert out[0]["response"]["body"]["choices"][0]["text"] == "Batch answer."
