"""Bytes of an uploaded file -> plain text, by file type (txt, md, html, pdf, json)."""

from __future__ import annotations

import html
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

from portico.errors import InvalidRequest

TEXT_TYPES = (".txt", ".md", ".markdown", ".rst", ".csv", ".tsv", ".log", ".py", ".yaml", ".yml", ".xml")


class UnsupportedFile(InvalidRequest):
    default_code = "unsupported_file"


class _TextOfHtml(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "noscript", "template"})
    _BLOCK = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html(data: str) -> str:
    parser = _TextOfHtml()
    parser.feed(data)
    parser.close()
    return html.unescape("".join(parser.parts))


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnsupportedFile(f"Could not read the PDF: {exc}") from None


def _json_text(value: Any, path: str = "") -> list[str]:
    """Leaves of a JSON document as ``path: value`` lines (keys carry meaning for retrieval)."""
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in _json_text(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [line for v in value for line in _json_text(v, path)]
    if value is None:
        return []
    return [f"{path}: {value}" if path else str(value)]


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:  # text files have no NUL bytes (UTF-16 is handled above)
        raise UnsupportedFile("The file looks binary; supported: text, markdown, HTML, PDF and JSON.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def extract_text(filename: str, data: bytes) -> str:
    """The readable text of a file; UnsupportedFile when there is none to read."""
    name = filename.lower()
    if name.endswith(".pdf") or data[:5] == b"%PDF-":
        text = _pdf(data)
    else:
        raw = _decode(data)
        if name.endswith((".html", ".htm")) or re.match(r"\s*(<!doctype html|<html)", raw[:200], re.I):
            text = _html(raw)
        elif name.endswith((".json", ".jsonl")):
            rows = raw.splitlines() if name.endswith(".jsonl") else [raw]
            try:
                text = "\n".join(line for row in rows if row.strip() for line in _json_text(json.loads(row)))
            except json.JSONDecodeError as exc:
                raise UnsupportedFile(f"The file is not valid JSON: {exc}") from None
        else:
            text = raw
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r"\n\s*\n\s*", "\n\n", text).strip()
    if not text:
        raise UnsupportedFile("The file has no text to index.")
    return text
