"""Grounded answers: the rag/<store> alias and the file_search tool in chat completions, with
citations, per-sentence groundedness (metadata, header, metric), abstention and isolation."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from portico.server import create_app
from portico.testing import FakeUpstream, make_settings, serve_in_thread

from .conftest import rag_backend

MASTER = "sk-answers-master-0123456789"
REPLY = "Tides are caused by the gravitational pull of the Moon [1]. Bananas are purple and grow on Mars [2]."


def _key(base: str, name: str) -> str:
    req = urllib.request.Request(
        base + "/admin/keys",
        data=json.dumps({"name": name}).encode(),
        headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        return str(json.loads(resp.read())["secret"])


@pytest.fixture(scope="module", params=["embedded", "pgvector"])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("answers")
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
        rag=rag_backend(request, tmp),
        resilience={"enabled": False},
    )
    try:
        with serve_in_thread(create_app(settings)) as base:
            key = _key(base, "owner")
            client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
            docs = {
                "tides.txt": "Tides are caused mainly by the gravitational pull of the Moon on the oceans.",
                "bread.txt": "Sourdough bread rises because wild yeast ferments the flour.",
            }
            ids = {n: client.files.create(file=(n, t.encode()), purpose="assistants").id for n, t in docs.items()}
            store = client.vector_stores.create(name="science")
            for fid in ids.values():
                assert (
                    client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=fid).status
                    == "completed"
                )
            yield {"base": base, "key": key, "client": client, "store": store.id, "ids": ids, "upstream": upstream}
    finally:
        upstream.stop_thread()


def test_rag_alias_answers_with_citations_and_groundedness(setup: dict[str, Any]) -> None:
    base, key, store = setup["base"], setup["key"], setup["store"]
    up: FakeUpstream = setup["upstream"]
    before = len(up.requests)
    for model in (f"rag/{store}", "rag/science"):  # by id, or by the owner's store name
        r = httpx.post(
            base + "/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": "What causes the tides?"}]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["choices"][0]["message"]["content"] == REPLY
        meta = body["portico_rag"]
        assert meta["sources"][0]["filename"] == "tides.txt" and not meta["abstained"]
        assert meta["citations"][0]["file_id"] == setup["ids"]["tides.txt"]
        assert [s["grounded"] for s in meta["sentences"]] == [True, False]
        assert meta["ungrounded_sentences"] == ["Bananas are purple and grow on Mars [2]."]
        assert r.headers["x-portico-rag"].endswith("ungrounded=1")
        annotations = body["choices"][0]["message"]["annotations"]
        assert annotations[0]["type"] == "file_citation" and annotations[0]["file_id"] == setup["ids"]["tides.txt"]
    sent = up.requests[before].body
    assert sent["model"] == "gpt" and "gravitational pull of the Moon" in sent["messages"][0]["content"]
    metrics = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {MASTER}"}).text
    assert 'portico_rag_ungrounded_sentences_total{model="gpt"} 2.0' in metrics


def test_file_search_tool_in_chat_and_streaming(setup: dict[str, Any]) -> None:
    client: openai.OpenAI = setup["client"]
    resp = client.chat.completions.create(
        model="gpt",
        messages=[{"role": "user", "content": "Why does sourdough bread rise?"}],
        tools=[{"type": "file_search", "vector_store_ids": [setup["store"]], "max_num_results": 2}],  # type: ignore[list-item]
    )
    meta = resp.model_extra["portico_rag"]  # type: ignore[index]
    assert meta["sources"][0]["filename"] == "bread.txt" and len(meta["sources"]) <= 2
    stream = client.chat.completions.create(
        model=f"rag/{setup['store']}", messages=[{"role": "user", "content": "What causes the tides?"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert chunks[-1].model_extra["portico_rag"]["ungrounded_sentences"]  # type: ignore[index]


def test_abstains_on_weak_retrieval_and_isolates_stores(setup: dict[str, Any]) -> None:
    client: openai.OpenAI = setup["client"]
    up: FakeUpstream = setup["upstream"]
    before = len(up.requests)
    resp = client.chat.completions.create(
        model=f"rag/{setup['store']}",
        messages=[{"role": "user", "content": "Which quarterback won the 1987 Super Bowl MVP award?"}],
    )
    assert resp.model_extra["portico_rag"]["abstained"]  # type: ignore[index]
    assert "don't know" in (resp.choices[0].message.content or "")
    assert len(up.requests) == before  # no model call for an abstention
    other = openai.OpenAI(base_url=setup["base"] + "/v1", api_key=_key(setup["base"], "other"), max_retries=0)
    for kwargs in (
        {"model": f"rag/{setup['store']}"},
        {"model": "rag/science"},
        {"model": "gpt", "tools": [{"type": "file_search", "vector_store_ids": [setup["store"]]}]},
    ):
        with pytest.raises(openai.NotFoundError):
            other.chat.completions.create(messages=[{"role": "user", "content": "What causes the tides?"}], **kwargs)  # type: ignore[call-overload]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gpt",
            messages=[{"role": "user", "content": "x"}],
            tools=[{"type": "file_search"}],  # type: ignore[list-item]
        )


def test_file_search_in_the_responses_api(setup: dict[str, Any]) -> None:
    client: openai.OpenAI = setup["client"]
    resp = client.responses.create(
        model="gpt",
        input="What causes the tides?",
        tools=[{"type": "file_search", "vector_store_ids": [setup["store"]], "max_num_results": 3}],
    )
    kinds = [item.type for item in resp.output]
    assert kinds == ["file_search_call", "message"], kinds
    assert resp.output[0].queries == ["What causes the tides?"]  # type: ignore[union-attr]
    part = resp.output[1].content[0]  # type: ignore[union-attr]
    assert part.text == REPLY
    citation = part.annotations[0]  # type: ignore[union-attr]
    assert citation.type == "file_citation" and citation.file_id == setup["ids"]["tides.txt"]
    assert citation.filename == "tides.txt" and REPLY[citation.index :].startswith("[1]")
    other = openai.OpenAI(base_url=setup["base"] + "/v1", api_key=_key(setup["base"], "stranger"), max_retries=0)
    with pytest.raises(openai.NotFoundError):
        other.responses.create(
            model="gpt", input="tides?", tools=[{"type": "file_search", "vector_store_ids": [setup["store"]]}]
        )
