"""Vector stores through the official openai SDK against a gateway on loopback (embedded backend)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from portico.server import create_app
from portico.testing import make_settings, post_json, serve_in_thread

from .conftest import rag_backend

MASTER = "sk-rag-master-0123456789"
DOCS = {
    "tides.txt": "Tides are caused mainly by the gravitational pull of the Moon on the oceans. "
    "The Sun contributes a smaller effect; spring tides happen when both align.",
    "bread.md": "# Sourdough\nSourdough bread rises because wild yeast and lactic acid bacteria in the starter "
    "ferment the flour and release carbon dioxide.",
    "tax.html": "<html><body><h1>Taxes</h1><p>The filing deadline for the annual tax return is April 15.</p>"
    "<script>var x = 'ignore me';</script></body></html>",
}


def _admin(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return post_json(base, path, body, key=MASTER)


def _client(base: str, name: str, team_id: str | None = None) -> openai.OpenAI:
    secret = _admin(base, "/admin/keys", {"name": name, "team_id": team_id})["secret"]
    return openai.OpenAI(base_url=base + "/v1", api_key=secret, max_retries=0)


@pytest.fixture(scope="module", params=["embedded", "pgvector"])
def base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("rag")
    settings = make_settings(
        [{"name": "echo", "provider": "echo"}],
        auth={"master_key": MASTER},
        storage={"url": f"sqlite+aiosqlite:///{tmp}/g.db", "wal_dir": str(tmp / "wal")},
        files={"dir": str(tmp / "files")},
        rag=rag_backend(request, tmp),
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def _store_with_docs(client: openai.OpenAI, tmp_path: Path, **kw: Any) -> tuple[str, dict[str, str]]:
    ids = {}
    for name, text in DOCS.items():
        (tmp_path / name).write_text(text)
        ids[name] = client.files.create(file=(tmp_path / name).open("rb"), purpose="assistants").id
    vs = client.vector_stores.create(name="docs", **kw)
    for name, fid in ids.items():
        attrs = {"kind": name.rsplit(".", 1)[1], "year": 2020 + len(name)}
        f = client.vector_stores.files.create_and_poll(vector_store_id=vs.id, file_id=fid, attributes=attrs)
        assert f.status == "completed", f.last_error
    return vs.id, ids


def test_search_with_the_sdk(base: str, tmp_path: Path) -> None:
    a = _client(base, "a")
    vs_id, ids = _store_with_docs(a, tmp_path)
    store = a.vector_stores.retrieve(vs_id)
    assert store.file_counts.completed == 3 and store.file_counts.total == 3 and store.status == "completed"
    assert store.usage_bytes > 0
    for q, want in [
        ("What makes the bread rise?", "bread.md"),
        ("why are there tides", "tides.txt"),
        ("when do I have to file my taxes", "tax.html"),
    ]:
        res = list(a.vector_stores.search(vector_store_id=vs_id, query=q, max_num_results=3))
        assert res and res[0].filename == want, (q, [r.filename for r in res])
        assert res[0].file_id == ids[want] and 0 < res[0].score <= 1 and res[0].content[0].text
    tax = list(a.vector_stores.search(vector_store_id=vs_id, query="tax deadline", max_num_results=1))
    assert "ignore me" not in tax[0].content[0].text and tax[0].attributes == {"kind": "html", "year": 2028}
    only_md = list(
        a.vector_stores.search(
            vector_store_id=vs_id, query="tides moon", filters={"type": "eq", "key": "kind", "value": "md"}
        )
    )
    assert [r.filename for r in only_md] in ([], ["bread.md"])
    none = list(
        a.vector_stores.search(vector_store_id=vs_id, query="tides moon", ranking_options={"score_threshold": 0.999})
    )
    assert none == []
    for ranker in ("bm25", "dense"):
        hits = list(
            a.vector_stores.search(
                vector_store_id=vs_id, query="sourdough starter", extra_body={"ranking_options": {"ranker": ranker}}
            )
        )
        assert hits[0].filename == "bread.md"
    listed = a.vector_stores.files.list(vector_store_id=vs_id)
    assert {f.id for f in listed.data} == set(ids.values())
    a.vector_stores.files.delete(file_id=ids["tax.html"], vector_store_id=vs_id)
    after = list(a.vector_stores.search(vector_store_id=vs_id, query="tax return deadline April"))
    assert "tax.html" not in [r.filename for r in after]


def test_isolation_across_keys_and_teams(base: str, tmp_path: Path) -> None:
    team = _admin(base, "/admin/teams", {"name": "research"})["id"]
    other_team = _admin(base, "/admin/teams", {"name": "sales"})["id"]
    owner = _client(base, "owner", team)
    mate = _client(base, "mate", team)
    outsider = _client(base, "outsider", other_team)
    loner = _client(base, "loner")
    private_id, ids = _store_with_docs(owner, tmp_path)
    shared = owner.vector_stores.create(name="shared", metadata={"portico_share": "team"})
    owner.vector_stores.files.create_and_poll(vector_store_id=shared.id, file_id=ids["tides.txt"])
    for stranger in (mate, outsider, loner):
        with pytest.raises(openai.NotFoundError):
            list(stranger.vector_stores.search(vector_store_id=private_id, query="tides"))
        with pytest.raises(openai.NotFoundError):
            stranger.vector_stores.retrieve(private_id)
        with pytest.raises(openai.NotFoundError):  # nor add its own files to someone else's store
            stranger.vector_stores.files.create(vector_store_id=private_id, file_id=ids["tax.html"])
        assert private_id not in [s.id for s in stranger.vector_stores.list()]
    # the team store: readable by a team mate, not by other teams, writable only by its owner
    hits = list(mate.vector_stores.search(vector_store_id=shared.id, query="moon tides"))
    assert hits and hits[0].filename == "tides.txt"
    assert shared.id in [s.id for s in mate.vector_stores.list()]
    with pytest.raises(openai.NotFoundError):
        mate.vector_stores.delete(shared.id)
    for stranger in (outsider, loner):
        with pytest.raises(openai.NotFoundError):
            list(stranger.vector_stores.search(vector_store_id=shared.id, query="tides"))
    # a key cannot index another key's file into its own store
    mine = mate.vector_stores.create(name="mine")
    with pytest.raises(openai.NotFoundError):
        mate.vector_stores.files.create(vector_store_id=mine.id, file_id=ids["bread.md"])
    with pytest.raises(openai.BadRequestError):  # sharing needs a team
        loner.vector_stores.create(name="x", metadata={"portico_share": "team"})


def test_batches_failures_dedupe_and_delete(base: str, tmp_path: Path) -> None:
    c = _client(base, "batcher")
    good = [
        c.files.create(file=(f"n{i}.txt", f"Note: the {animal} lives in the {home}.".encode()), purpose="assistants")
        for i, (animal, home) in enumerate([("otter", "river"), ("camel", "desert"), ("puffin", "cliffs")])
    ]
    bad = c.files.create(file=("blob.bin", b"\x00\x01\x02binary\x00" * 10), purpose="assistants")
    empty = c.files.create(file=("empty.json", b"{}"), purpose="assistants")
    vs = c.vector_stores.create(
        name="b",
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 20}},
    )
    batch = c.vector_stores.file_batches.create_and_poll(
        vector_store_id=vs.id, file_ids=[f.id for f in good] + [bad.id, empty.id]
    )
    assert batch.status == "completed" and batch.file_counts.completed == 3 and batch.file_counts.failed == 2
    failed = {f.id: f for f in c.vector_stores.files.list(vector_store_id=vs.id, filter="failed")}
    assert failed[bad.id].last_error is not None and failed[bad.id].last_error.code == "unsupported_file"
    assert failed[empty.id].last_error is not None
    f0 = c.vector_stores.files.retrieve(file_id=good[0].id, vector_store_id=vs.id)
    assert f0.chunking_strategy.static.max_chunk_size_tokens == 100  # type: ignore[union-attr]
    again = c.vector_stores.files.create(vector_store_id=vs.id, file_id=good[0].id, attributes={"v": 2})
    assert again.status == "completed"  # same bytes, same chunking: nothing to re-embed
    hits = list(c.vector_stores.search(vector_store_id=vs.id, query="where do camels live"))
    assert hits[0].file_id == good[1].id
    expiring = c.vector_stores.create(name="short", expires_after={"anchor": "last_active_at", "days": 2})
    assert expiring.expires_after is not None and expiring.expires_after.days == 2
    assert expiring.expires_at is not None and expiring.expires_at - expiring.last_active_at == 2 * 86400  # type: ignore[operator]
    with pytest.raises(openai.BadRequestError):
        c.vector_stores.create(expires_after={"anchor": "created_at", "days": 2})  # type: ignore[typeddict-item]
    assert c.vector_stores.delete(vs.id).deleted
    with pytest.raises(openai.NotFoundError):
        c.vector_stores.retrieve(vs.id)
    with pytest.raises(openai.BadRequestError):
        c.vector_stores.create(
            chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 90}}
        )
    with pytest.raises(openai.NotFoundError):
        c.vector_stores.files.create(vector_store_id="vs_nope", file_id=good[0].id)
