"""Evaluation datasets: JSONL (``messages`` or ``prompt``) and CSV, loaded row by row.

A malformed row never stops the load: it becomes a :class:`RowProblem` naming its line,
and every good row is still evaluated.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ROLES = {"system", "developer", "user", "assistant", "tool"}


@dataclass(frozen=True)
class Assertion:
    """One check on a reply: ``type`` names a scorer; ``value`` defaults to the row's expected answer."""

    type: str
    value: Any = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalCase:
    """One row to evaluate."""

    id: str
    line: int
    messages: tuple[Mapping[str, Any], ...]
    expected: tuple[str, ...] = ()
    asserts: tuple[Assertion, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        """The last user message, for reports and judges."""
        for m in reversed(self.messages):
            if m.get("role") == "user":
                return str(m.get("content") or "")
        return ""


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Dataset:
    name: str
    cases: tuple[EvalCase, ...]
    problems: tuple[RowProblem, ...] = ()


class RowError(ValueError):
    """A row that cannot be evaluated; the message says what to fix."""


SAMPLES_DIR = Path(__file__).with_name("data")


def resolve_dataset(path: Path) -> Path:
    """``sample:NAME`` names a dataset shipped with Portico (arithmetic, capitals, json_extraction)."""
    text = str(path)
    if not text.startswith("sample:"):
        return path
    name = text.removeprefix("sample:")
    found = SAMPLES_DIR / f"{name}.jsonl"
    if not found.is_file():
        known = ", ".join(sorted(p.stem for p in SAMPLES_DIR.glob("*.jsonl")))
        raise FileNotFoundError(f"no sample dataset {name!r}; shipped samples: {known}")
    return found


def load_dataset(path: Path, *, limit: int | None = None) -> Dataset:
    """Load ``path`` (``.jsonl``/``.json`` lines or ``.csv``); bad rows are reported, not fatal."""
    path = resolve_dataset(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset not found: {path}")
    if path.suffix.lower() == ".csv":
        rows: Iterable[tuple[int, Any]] = _csv_rows(path)
    else:
        rows = _jsonl_rows(path)
    cases: list[EvalCase] = []
    problems: list[RowProblem] = []
    for line, raw in rows:
        if limit is not None and len(cases) >= limit:
            break
        if isinstance(raw, RowError):
            problems.append(RowProblem(line, str(raw)))
            continue
        try:
            cases.append(parse_row(raw, line=line, default_id=f"{path.stem}-{line}"))
        except RowError as exc:
            problems.append(RowProblem(line, str(exc)))
    return Dataset(name=path.stem, cases=tuple(cases), problems=tuple(problems))


def _jsonl_rows(path: Path) -> Iterable[tuple[int, Any]]:
    with path.open(encoding="utf-8") as f:
        for line_no, text in enumerate(f, start=1):
            if not text.strip() or text.lstrip().startswith("//"):
                continue
            try:
                yield line_no, json.loads(text)
            except json.JSONDecodeError as exc:
                yield line_no, RowError(f"invalid JSON ({exc.msg} at column {exc.colno})")


def _csv_rows(path: Path) -> Iterable[tuple[int, Any]]:
    """CSV columns: ``prompt`` (or ``question``/``input``), ``expected``/``ideal``/``answer``,
    optional ``system``, ``assert`` (JSON) and ``id``; other columns become metadata."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            # line_num is the physical line where the record ended (quoted fields can span lines).
            line = reader.line_num
            out: dict[str, Any] = {}
            meta: dict[str, Any] = {}
            for key, value in row.items():
                if key is None:
                    yield line, RowError("more fields than the header has columns")
                    break
                k = key.strip()
                if k in ("question", "input"):
                    k = "prompt"
                elif k == "answer":
                    k = "expected"
                if k == "assert":
                    if not value:
                        continue
                    try:
                        out[k] = json.loads(value)
                    except json.JSONDecodeError:
                        yield line, RowError("the 'assert' column is not valid JSON")
                        break
                elif k in ("prompt", "expected", "ideal", "system", "id"):
                    if value:
                        out[k] = value
                else:
                    meta[k] = value
            else:
                if meta:
                    out["metadata"] = meta
                yield line, out


def parse_row(raw: Any, *, line: int, default_id: str) -> EvalCase:
    """Validate one decoded row; raise :class:`RowError` with a fix-it message."""
    if not isinstance(raw, dict):
        raise RowError(f"expected a JSON object, got {type(raw).__name__}")
    messages = _messages(raw)
    expected = _expected(raw)
    asserts = _asserts(raw.get("assert"))
    if not expected and not asserts:
        raise RowError("no expected answer: give 'ideal', 'expected' or an 'assert' list")
    metadata = raw.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise RowError("'metadata' must be an object")
    return EvalCase(
        id=str(raw.get("id") or default_id),
        line=line,
        messages=messages,
        expected=expected,
        asserts=asserts,
        metadata=metadata,
    )


def _messages(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    if "messages" in raw:
        msgs = raw["messages"]
        if not isinstance(msgs, list) or not msgs:
            raise RowError("'messages' must be a non-empty list")
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or m.get("role") not in _ROLES:
                raise RowError(f"messages[{i}] needs a 'role' among {sorted(_ROLES)}")
            if not isinstance(m.get("content"), str | list):
                raise RowError(f"messages[{i}] needs a 'content' string")
        return tuple(msgs)
    prompt = raw.get("prompt", raw.get("input"))
    if not isinstance(prompt, str) or not prompt.strip():
        raise RowError("no input: give 'messages' (a list) or 'prompt' (a string)")
    out: list[Mapping[str, Any]] = []
    if isinstance(raw.get("system"), str):
        out.append({"role": "system", "content": raw["system"]})
    out.append({"role": "user", "content": prompt})
    return tuple(out)


def _expected(raw: Mapping[str, Any]) -> tuple[str, ...]:
    value = raw.get("ideal", raw.get("expected"))
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise RowError("'ideal'/'expected' must be a string, a number or a list of them")
    return tuple(str(v) for v in items)


def _asserts(value: Any) -> tuple[Assertion, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RowError('\'assert\' must be a list of objects like {"type": "contains", "value": "x"}')
    out: list[Assertion] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise RowError(f"assert[{i}] needs a 'type' string")
        options = {k: v for k, v in item.items() if k not in ("type", "value")}
        out.append(Assertion(type=item["type"], value=item.get("value"), options=options))
    return tuple(out)
