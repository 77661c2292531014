"""The files API through the official openai SDK against a gateway on loopback."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from portico.server import create_app
from portico.testing import make_settings, serve_in_thread

MASTER = "sk-files-master-0123456789"


def _new_key(base: str, name: str) -> str:
    req = urllib.request.Request(
        base + "/admin/keys",
        data=json.dumps({"name": name}).encode(),
        headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        return str(json.loads(resp.read())["secret"])


@pytest.fixture
def gateway_url(tmp_path: Path) -> Iterator[str]:
    settings = make_settings(
        [{"name": "echo", "provider": "echo"}],
        auth={"master_key": MASTER},
        storage={"url": f"sqlite+aiosqlite:///{tmp_path}/g.db", "wal_dir": str(tmp_path / "wal")},
        files={"dir": str(tmp_path / "files"), "max_bytes": 2048},
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def test_files_lifecycle_with_the_openai_sdk(gateway_url: str, tmp_path: Path) -> None:
    a = openai.OpenAI(base_url=gateway_url + "/v1", api_key=_new_key(gateway_url, "a"), max_retries=0)
    b = openai.OpenAI(base_url=gateway_url + "/v1", api_key=_new_key(gateway_url, "b"), max_retries=0)
    path = tmp_path / "notes.md"
    path.write_text("# Notes\nTides follow the Moon.\n")
    created = a.files.create(file=path.open("rb"), purpose="assistants")
    assert created.object == "file" and created.filename == "notes.md" and created.bytes == path.stat().st_size
    assert created.purpose == "assistants" and created.id.startswith("file-")
    second = a.files.create(file=("rows.jsonl", b'{"a": 1}\n'), purpose="batch")
    assert a.files.retrieve(created.id).filename == "notes.md"
    assert a.files.content(created.id).read() == path.read_bytes()
    listed = a.files.list()
    assert [f.id for f in listed.data] == [second.id, created.id]
    assert [f.id for f in a.files.list(purpose="batch").data] == [second.id]
    assert [f.id for f in a.files.list(limit=1).data] == [second.id]  # has_more: the SDK pages on
    assert [f.id for f in a.files.list(limit=1)] == [second.id, created.id]
    # another key sees nothing of it: 404, not 403, and an empty list
    for call in (lambda: b.files.retrieve(created.id), lambda: b.files.content(created.id).read()):
        with pytest.raises(openai.NotFoundError):
            call()
    with pytest.raises(openai.NotFoundError):
        b.files.delete(created.id)
    assert b.files.list().data == []
    deleted = a.files.delete(created.id)
    assert deleted.deleted and deleted.id == created.id
    with pytest.raises(openai.NotFoundError):
        a.files.retrieve(created.id)


def test_files_errors(gateway_url: str) -> None:
    key = _new_key(gateway_url, "c")
    client = openai.OpenAI(base_url=gateway_url + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as big:
        client.files.create(file=("big.bin", b"x" * 4096), purpose="assistants")
    assert big.value.status_code == 413
    with pytest.raises(openai.BadRequestError) as bad:
        client.files.create(file=("a.txt", b"x"), purpose="batch_output")  # type: ignore[arg-type]
    assert bad.value.body is not None and "purpose" in str(bad.value.body)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gateway_url + "/v1", api_key="sk-nobody", max_retries=0).files.list()
    headers = {"Authorization": f"Bearer {key}"}
    r = httpx.post(gateway_url + "/v1/files", json={"purpose": "batch"}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = httpx.post(gateway_url + "/v1/files", data={"purpose": "batch"}, files={"nope": b"x"}, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["param"] == "file"


def test_auth_off_has_one_anonymous_owner(tmp_path: Path) -> None:
    settings = make_settings(
        [{"name": "echo", "provider": "echo"}],
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/g.db", "wal_dir": str(tmp_path / "wal")},
        files={"dir": str(tmp_path / "files")},
    )
    with serve_in_thread(create_app(settings)) as url:
        one = openai.OpenAI(base_url=url + "/v1", api_key="sk-anything", max_retries=0)
        two = openai.OpenAI(base_url=url + "/v1", api_key="sk-something-else", max_retries=0)
        f = one.files.create(file=("a.txt", b"abc"), purpose="user_data")
        assert two.files.content(f.id).read() == b"abc"
