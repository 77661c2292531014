"""``portico compress``: the gateway's compressor offline."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from portico.cli import app
from portico.compress import Compressor

from .test_stage import FACT, QUESTION, document


def test_compress_file_prints_what_the_gateway_would_send(tmp_path: Path) -> None:
    doc = document()
    path = tmp_path / "doc.txt"
    path.write_text(doc, encoding="utf-8")
    result = CliRunner().invoke(app, ["compress", str(path), "--question", QUESTION, "--ratio", "0.3", "--no-embed"])
    assert result.exit_code == 0, result.output
    expected = Compressor().compress(doc, QUESTION, ratio=0.3)
    assert result.stdout.rstrip("\n") == expected.text
    assert FACT in result.stdout
    assert f"saved_tokens={expected.saved_tokens}" in result.stderr


def test_bad_ratio_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["compress", str(tmp_path / "nope.txt"), "-q", "x"])
    assert bad.exit_code == 2 and "cannot read" in bad.stderr
    path = tmp_path / "d.txt"
    path.write_text("a. b.", encoding="utf-8")
    ratio = runner.invoke(app, ["compress", str(path), "-q", "x", "--ratio", "1.5"])
    assert ratio.exit_code == 2 and "--ratio" in ratio.stderr
