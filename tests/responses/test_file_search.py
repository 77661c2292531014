"""The file_search tool on /v1/responses, answered by the RAG feature: a file_search_call item,
file_citation annotations on the output text, and a 400 where RAG is off."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from portico.server import create_app
from portico.testing import FakeUpstream, make_settings, serve_in_thread

MASTER = "sk-fs-master-0123456789"
REPLY = "Tides are caused by the gravitational pull of the Moon [1]."


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[openai.OpenAI, str, dict[str, str]]]:
    tmp: Path = tmp_path_factory.mktemp("fs")
    upstream = FakeUpstream(reply=REPLY).start_in_thread()
    settings = make_settings(
        [
            {
                "name": "gpt",
                "provider": "openai",
                "base_url": upstream.base_url,
                "api_key": "sk-up",
                "context_window": 4096,
            }
        ],
        auth={"master_key": MASTER},
        storage={"url": f"sqlite+aiosqlite:///{tmp}/g.db", "wal_dir": str(tmp / "wal")},
        files={"dir": str(tmp / "files")},
        rag={"dir": str(tmp / "rag")},
        resilience={"enabled": False},
    )
    try:
        with serve_in_thread(create_app(settings)) as base:
            req = urllib.request.Request(
                base + "/admin/keys",
                data=json.dumps({"name": "owner"}).encode(),
                headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req) as resp:
                key = str(json.loads(resp.read())["secret"])
            client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
            docs = {
                "tides.txt": "Tides are caused mainly by the gravitational pull of the Moon on the oceans.",
                "bread.txt": "Sourdough bread rises because wild yeast ferments the flour.",
            }
            ids = {n: client.files.create(file=(n, t.encode()), purpose="assistants").id for n, t in docs.items()}
            store = client.vector_stores.create(name="science")
            for fid in ids.values():
                client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=fid)
            yield client, store.id, ids
    finally:
        upstream.stop_thread()


def test_file_search_on_responses(setup: tuple[openai.OpenAI, str, dict[str, str]]) -> None:
    client, store, ids = setup
    r = client.responses.create(
        model="gpt",
        input="What causes the tides?",
        tools=[{"type": "file_search", "vector_store_ids": [store], "max_num_results": 2}],
    )
    assert [o.type for o in r.output] == ["file_search_call", "message"]
    search = r.output[0]
    assert search.status == "completed" and search.queries == ["What causes the tides?"]  # type: ignore[union-attr]
    assert search.results and search.results[0].filename == "tides.txt"  # type: ignore[union-attr]
    assert r.output_text == REPLY
    annotation = r.output[1].content[0].annotations[0]  # type: ignore[union-attr]
    assert annotation.type == "file_citation" and annotation.file_id == ids["tides.txt"]
    assert client.responses.retrieve(r.id).output[0].type == "file_search_call"


def test_file_search_needs_vector_store_ids(setup: tuple[openai.OpenAI, str, dict[str, str]]) -> None:
    client, _, _ = setup
    with pytest.raises(openai.BadRequestError, match="vector_store_ids"):
        client.responses.create(model="gpt", input="x", tools=[{"type": "file_search"}])  # type: ignore[typeddict-item]


def test_file_search_without_rag_is_a_400(served: tuple[str, FakeUpstream]) -> None:
    client = openai.OpenAI(base_url=served[0] + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="'file_search' is not supported"):
        client.responses.create(model="gpt", input="x", tools=[{"type": "file_search", "vector_store_ids": ["vs_1"]}])
