"""Stored responses belong to the key that made them (SQL store, keys through the door)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from portico.server import create_app
from portico.testing import FakeUpstream, make_settings, serve_in_thread

MASTER = "sk-own-master-0123456789"


@pytest.fixture
def keyed(tmp_path: Path, thread_upstream: FakeUpstream) -> Iterator[tuple[str, str, str]]:
    settings = make_settings(
        [{"name": "gpt", "provider": "openai", "base_url": thread_upstream.base_url, "api_key": "sk-up"}],
        auth={"master_key": MASTER},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/p.db", "wal_dir": str(tmp_path / "wal")},
        files={"dir": str(tmp_path / "files")},
        resilience={"enabled": False},
    )
    with serve_in_thread(create_app(settings)) as url:
        master = {"Authorization": f"Bearer {MASTER}"}
        a = httpx.post(url + "/admin/keys", json={"name": "a"}, headers=master).json()["secret"]
        b = httpx.post(url + "/admin/keys", json={"name": "b"}, headers=master).json()["secret"]
        yield url, a, b


def test_another_keys_response_does_not_exist(keyed: tuple[str, str, str]) -> None:
    url, a, b = keyed
    ca = openai.OpenAI(base_url=url + "/v1", api_key=a, max_retries=0)
    cb = openai.OpenAI(base_url=url + "/v1", api_key=b, max_retries=0)
    r = ca.responses.create(model="gpt", input="My name is Ada.")
    assert ca.responses.retrieve(r.id).output_text == "Paris is the capital of France."
    assert len(list(ca.responses.input_items.list(r.id))) == 1
    follow = ca.responses.create(model="gpt", input="Name?", previous_response_id=r.id)
    assert follow.previous_response_id == r.id
    for call in (
        lambda: cb.responses.retrieve(r.id),
        lambda: cb.responses.input_items.list(r.id),
        lambda: cb.responses.delete(r.id),
        lambda: cb.responses.create(model="gpt", input="Name?", previous_response_id=r.id),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    assert ca.responses.retrieve(r.id).id == r.id  # b's delete did not touch it
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url + "/v1", api_key="sk-wrong", max_retries=0).responses.retrieve(r.id)
