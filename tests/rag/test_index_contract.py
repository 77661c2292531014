"""The VectorIndex contract: every backend passes these."""

from __future__ import annotations

from pathlib import Path

from portico.rag.filters import compile_filter
from portico.rag.index.base import VectorIndex
from portico.rag.index.embedded import EmbeddedIndex
from portico.rag.text import lexical_tokens

from .conftest import chunks, toy_vector


async def _seed(index: VectorIndex) -> None:
    await index.replace_file(
        "vs_a", "file-tides", chunks("Tides are caused by the Moon.", "Spring tides align Sun and Moon."), {"k": "sea"}
    )
    await index.replace_file("vs_a", "file-bread", chunks("Yeast makes sourdough bread rise."), {"k": "food", "n": 3})
    await index.replace_file("vs_b", "file-tax", chunks("Tax returns are due in April."), {})


async def test_lexical_and_dense_rank_within_one_store(index: VectorIndex) -> None:
    await _seed(index)
    lex = await index.lexical("vs_a", lexical_tokens("why does bread rise"), 5)
    assert [h.file_id for h in lex] == ["file-bread"] and lex[0].score > 0
    assert lex[0].text == "Yeast makes sourdough bread rise." and lex[0].attributes == {"k": "food", "n": 3}
    dense = await index.dense("vs_a", toy_vector("moon tides"), 2)
    assert [h.file_id for h in dense] == ["file-tides", "file-tides"] and dense[0].score >= dense[1].score
    assert -1.0 <= dense[-1].score <= 1.0001
    assert await index.lexical("vs_a", lexical_tokens("tax april"), 5) == []  # other store's words
    assert {h.file_id for h in await index.dense("vs_a", toy_vector("tax april"), 10)} <= {"file-tides", "file-bread"}
    assert await index.count("vs_a") == 3 and await index.count("vs_b") == 1 and await index.count("vs_none") == 0


async def test_replace_delete_and_filters(index: VectorIndex) -> None:
    await _seed(index)
    await index.replace_file("vs_a", "file-bread", chunks("Rye crackers are baked flat."), {"k": "food", "n": 5})
    assert await index.lexical("vs_a", lexical_tokens("sourdough yeast"), 5) == []
    assert [h.file_id for h in await index.lexical("vs_a", lexical_tokens("rye crackers"), 5)] == ["file-bread"]
    food = compile_filter({"type": "eq", "key": "k", "value": "food"})
    dense = await index.dense("vs_a", toy_vector("moon tides"), 5, food)
    assert {h.file_id for h in dense} == {"file-bread"}
    assert await index.lexical("vs_a", lexical_tokens("moon"), 5, food) == []
    big = compile_filter({"type": "and", "filters": [{"type": "gte", "key": "n", "value": 4}]})
    assert [h.file_id for h in await index.lexical("vs_a", lexical_tokens("rye"), 5, big)] == ["file-bread"]
    await index.set_attributes("vs_a", "file-bread", {"k": "snack"})
    assert await index.lexical("vs_a", lexical_tokens("rye"), 5, food) == []
    await index.delete_file("vs_a", "file-bread")
    assert await index.lexical("vs_a", lexical_tokens("rye"), 5) == []
    assert await index.count("vs_a") == 2
    await index.delete_store("vs_a")
    assert await index.count("vs_a") == 0 and await index.dense("vs_a", toy_vector("moon"), 5) == []
    assert await index.count("vs_b") == 1


async def test_embedded_index_persists_and_sees_other_writers(tmp_path: Path) -> None:
    first = EmbeddedIndex(tmp_path / "rag")
    await first.start()
    await _seed(first)
    assert (await first.lexical("vs_a", lexical_tokens("bread"), 1))[0].file_id == "file-bread"
    second = EmbeddedIndex(tmp_path / "rag")  # another process on the same directory
    await second.start()
    assert (await second.dense("vs_a", toy_vector("yeast bread"), 1))[0].file_id == "file-bread"
    await second.replace_file("vs_a", "file-new", chunks("Glaciers carve valleys."), {})
    assert (await first.lexical("vs_a", lexical_tokens("glaciers"), 1))[0].file_id == "file-new"
    await first.close()
    await second.close()
    saved = sorted(p.name for p in (tmp_path / "rag" / "vs_a").iterdir())
    assert any(n.endswith(".usearch") for n in saved) and any(n.startswith("bm25.v") for n in saved)
    reopened = EmbeddedIndex(tmp_path / "rag")
    await reopened.start()
    assert (await reopened.dense("vs_a", toy_vector("glaciers valleys"), 1))[0].file_id == "file-new"
    assert (await reopened.lexical("vs_a", lexical_tokens("sourdough"), 1))[0].file_id == "file-bread"
    await reopened.close()


async def test_both_backends_score_bm25_alike(tmp_path: Path, pgvector_url: str) -> None:
    """Same chunks, same query: the SQL BM25 of pgvector equals bm25s's (ranking and scores),
    also after a file is replaced and another deleted (document frequencies kept in step)."""
    import uuid

    from portico.rag.index.pgvector import PgVectorIndex

    texts = [
        "Tides rise and fall twice a day as the Moon pulls the oceans.",
        "The Moon's gravity raises tides; the Sun adds a smaller pull.",
        "Sourdough rises as yeast ferments flour and releases gas.",
        "Spring tides happen when the Sun and the Moon align.",
        "Glaciers carve valleys over thousands of years of slow flow.",
    ]
    backends = [EmbeddedIndex(tmp_path / "e"), PgVectorIndex(pgvector_url, schema=f"rag_{uuid.uuid4().hex[:10]}")]
    results = []
    for idx in backends:
        await idx.start()
        for i, t in enumerate(texts):
            await idx.replace_file("vs", f"f{i}", chunks(t, t + " Again."), {})
        await idx.replace_file("vs", "f1", chunks("The Moon raises tides on every ocean."), {})
        await idx.delete_file("vs", "f4")
        hits = await idx.lexical("vs", lexical_tokens("why do the tides rise with the moon"), 10)
        results.append([(h.chunk_id and h.text, round(h.score, 5)) for h in hits])
        await idx.close()
    assert results[0] == results[1] and len(results[0]) >= 5
