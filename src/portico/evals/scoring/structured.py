"""JSON scorers: valid JSON, valid against a JSON Schema, and expected fields present."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.scoring.base import Score

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_json_reply(output: str) -> Any:
    """The reply as JSON: the whole text, a fenced block, or the outermost {...}/[...] span."""
    text = output.strip()
    candidates = [text]
    candidates += [m.strip() for m in _FENCE.findall(text)]
    for open_c, close_c in (("{", "}"), ("[", "]")):
        start, end = text.find(open_c), text.rfind(close_c)
        if 0 <= start < end:
            candidates.append(text[start : end + 1])
    for cand in candidates:
        try:
            return json.loads(cand)
        except json.JSONDecodeError:
            continue
    raise ValueError("reply is not JSON")


class JsonValid:
    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score:
        try:
            parse_json_reply(output)
        except ValueError as exc:
            return Score.of(False, str(exc))
        return Score.of(True, "valid JSON")


class JsonSchemaValid:
    """``value`` is the schema (an object, or a JSON string of one)."""

    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score:
        schema = assertion.value
        if isinstance(schema, str):
            schema = json.loads(schema)
        if not isinstance(schema, dict):
            return Score.of(False, "json_schema needs a schema object as 'value'")
        try:
            doc = parse_json_reply(output)
        except ValueError as exc:
            return Score.of(False, str(exc))
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(doc))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            return Score.of(False, f"{where}: {error.message}"[:200])
        return Score.of(True, "matches schema")


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _same(v, got[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(want) == len(got) and all(map(_same, want, got))
    if isinstance(want, str):
        return isinstance(got, str | int | float) and " ".join(str(got).lower().split()) == " ".join(
            want.lower().split()
        )
    if isinstance(want, int | float) and not isinstance(want, bool):
        return isinstance(got, int | float) and abs(float(got) - float(want)) < 1e-6
    return bool(want == got)


class JsonMatch:
    """Every field of the expected object is in the reply with the same value (extra fields are fine);
    strings compare case- and whitespace-insensitively."""

    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score:
        want = assertion.value
        if want is None and case.expected:
            want = case.expected[0]
        if isinstance(want, str):
            try:
                want = json.loads(want)
            except json.JSONDecodeError:
                return Score.of(False, "json_match needs a JSON object as 'value' or expected")
        try:
            got = parse_json_reply(output)
        except ValueError as exc:
            return Score.of(False, str(exc))
        if _same(want, got):
            return Score.of(True, "fields match")
        return Score.of(False, f"got {json.dumps(got)[:120]}")
