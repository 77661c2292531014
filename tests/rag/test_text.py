"""Parsing by file type, sentence-aware chunking with overlap, filters, BM25 tokens."""

from __future__ import annotations

import itertools

import pytest

from portico.errors import InvalidRequest
from portico.rag.chunk import ChunkingStrategy, chunk_text, split_sentences, wordpiece_counter
from portico.rag.filters import compile_filter
from portico.rag.parse import UnsupportedFile, extract_text
from portico.rag.text import lexical_tokens


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF showing ``text`` (built by hand: no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_extract_text_by_type() -> None:
    assert "Tides follow the Moon" in extract_text("a.pdf", _pdf("Tides follow the Moon"))
    html = extract_text("a.html", b"<html><head><style>x{}</style></head><body><p>One &amp; two</p></body></html>")
    assert html == "One & two"
    assert (
        extract_text("a.json", b'{"title": "Tides", "tags": ["sea", "moon"]}') == "title: Tides\ntags: sea\ntags: moon"
    )
    assert extract_text("a.md", "# Título\n\n\n\nBody".encode()) == "# Título\n\nBody"
    for name, data in (("a.bin", b"\x00\x01"), ("a.json", b"{nope"), ("a.txt", b"   "), ("a.pdf", b"%PDF-1.4 broken")):
        with pytest.raises(UnsupportedFile):
            extract_text(name, data)


def test_chunks_are_token_sized_sentence_aware_and_overlap() -> None:
    sentences = [f"Sentence number {w} talks about the {w} topic at some length." for w in "abcdefghijklmnopqrst"]
    text = " ".join(sentences)
    strategy = ChunkingStrategy(max_tokens=60, overlap_tokens=15)
    chunks = chunk_text(text, strategy)
    assert len(chunks) > 3
    assert all(n <= 60 for n in wordpiece_counter(chunks))
    for chunk in chunks:  # whole sentences only
        assert all(s in sentences for s in split_sentences(chunk))
    for prev, nxt in itertools.pairwise(chunks):  # the next chunk starts with the last sentence
        assert split_sentences(nxt)[0] == split_sentences(prev)[-1]
    covered = {s for c in chunks for s in split_sentences(c)}
    assert covered == set(sentences)
    long = "word " * 500
    parts = chunk_text(long, ChunkingStrategy(max_tokens=100, overlap_tokens=0))
    assert len(parts) >= 5 and all(n <= 100 for n in wordpiece_counter(parts))
    with pytest.raises(InvalidRequest):
        ChunkingStrategy(max_tokens=100, overlap_tokens=60)


def test_filters_and_tokens() -> None:
    f = compile_filter(
        {
            "type": "or",
            "filters": [
                {"type": "eq", "key": "kind", "value": "md"},
                {
                    "type": "and",
                    "filters": [
                        {"type": "gte", "key": "year", "value": 2020},
                        {"type": "nin", "key": "tag", "value": ["x"]},
                    ],
                },
            ],
        }
    )
    assert f({"kind": "md"}) and f({"year": 2021}) and not f({"year": 2021, "tag": "x"}) and not f({"year": "new"})
    for bad in (
        {"type": "regex", "key": "a", "value": 1},
        {"type": "in", "key": "a", "value": 1},
        {"type": "and", "filters": []},
    ):
        with pytest.raises(InvalidRequest):
            compile_filter(bad)
    assert lexical_tokens("The tides are RISING, a lot!") == ["tide", "rise", "lot"]
