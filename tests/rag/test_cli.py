"""``portico rag ingest | search | eval`` through the real command line (in-process runner)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from portico.cli import app


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        f"storage: {{enabled: true, url: 'sqlite+aiosqlite:///{tmp_path}/p.db', wal_dir: '{tmp_path}/wal'}}\n"
        f"files: {{dir: '{tmp_path}/files'}}\nrag: {{dir: '{tmp_path}/rag'}}\n"
    )
    return cfg


def test_ingest_reingest_and_search(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("Tides are caused by the gravity of the Moon.")
    (docs / "bread.html").write_text("<p>Yeast makes sourdough bread rise.</p>")
    (docs / "blob.bin").write_bytes(b"\x00\x01\x02")
    cfg = _config(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["rag", "ingest", str(docs), "--store", "notes", "-c", str(cfg)])
    assert first.exit_code == 1, first.output  # one failure is listed, and fails the command
    out = json.loads(first.stdout)
    assert out["added"] == 3 and out["file_counts"]["completed"] == 2
    assert [f["path"] for f in out["failed"]] == [str(docs / "blob.bin")]
    (docs / "blob.bin").unlink()
    (docs / "tides.txt").write_text("Glaciers carve deep valleys over millennia.")
    second = runner.invoke(app, ["rag", "ingest", str(docs), "--store", "notes", "-c", str(cfg)])
    assert second.exit_code == 0, second.output
    out = json.loads(second.stdout)
    assert (out["added"], out["updated"], out["unchanged"]) == (0, 1, 1)
    found = runner.invoke(app, ["rag", "search", "notes", "how are valleys formed", "-c", str(cfg), "--k", "1"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)
    assert hits[0]["filename"] == "tides.txt" and "Glaciers" in hits[0]["content"][0]["text"]
    old = runner.invoke(app, ["rag", "search", "notes", "gravity of the Moon", "-c", str(cfg), "--mode", "bm25"])
    assert all("Moon" not in h["content"][0]["text"] for h in json.loads(old.stdout))  # replaced chunks are gone


def test_eval_on_a_tiny_beir_set(tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text(
        "\n".join(
            json.dumps(d)
            for d in [
                {"_id": "d1", "title": "Tides", "text": "Tides are caused by the Moon."},
                {"_id": "d2", "title": "Bread", "text": "Yeast makes bread rise."},
                {"_id": "d3", "title": "Taxes", "text": "Tax returns are due in April."},
            ]
        )
    )
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "what causes tides"}\n{"_id": "q2", "text": "when are taxes due"}\n'
    )
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n")
    args = ["--corpus", "corpus.jsonl", "--queries", "queries.jsonl", "--qrels", "qrels.tsv"]
    runner = CliRunner()
    for mode in ("bm25", "dense", "hybrid"):
        result = runner.invoke(
            app, ["rag", "eval", *[str(tmp_path / a) if a.endswith(("l", "v")) else a for a in args], "--mode", mode]
        )
        assert result.exit_code == 0, result.output
        metrics = json.loads(result.stdout)
        assert metrics["ndcg@10"] == 1.0 and metrics["mrr@10"] == 1.0 and metrics["queries"] == 2, metrics
    bad = runner.invoke(
        app, ["rag", "eval", *[str(tmp_path / a) if a.endswith(("l", "v")) else a for a in args], "--mode", "magic"]
    )
    assert bad.exit_code == 2
