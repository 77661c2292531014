"""Validate a batch input file (JSONL of ``custom_id`` / ``method`` / ``url`` / ``body``).

File-level problems fail the whole batch with ``errors`` naming each line, as OpenAI does:
bad JSON, a missing or duplicate ``custom_id``, a wrong method or url, a body that is not an
object, models that differ between lines, too many lines or bytes. A body that is an object
but not a valid request (``"messages": "not a list"``) is not a file problem: that line runs,
fails with a 400 like any request would, and is reported in the error file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from portico.batch.records import Line

MAX_ERRORS = 100  # errors reported per batch; the count of the rest is summarised


@dataclass(slots=True)
class Parsed:
    lines: list[Line] = field(default_factory=list)
    model: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def _error(parsed: Parsed, code: str, message: str, line: int | None, param: str | None = None) -> None:
    if len(parsed.errors) < MAX_ERRORS:
        parsed.errors.append({"code": code, "message": message, "param": param, "line": line})


def parse_input(data: bytes, endpoint: str, *, max_lines: int, max_bytes: int) -> Parsed:
    parsed = Parsed()
    if len(data) > max_bytes:
        _error(parsed, "file_too_large", f"The input file is {len(data)} bytes; the limit is {max_bytes}.", None)
        return parsed
    seen: dict[str, int] = {}
    model_line = 0
    count = 0
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        count += 1
        if count > max_lines:
            _error(parsed, "too_many_requests", f"The input file has more than {max_lines} requests.", number)
            return parsed
        line = _line(parsed, raw, number, endpoint)
        if line is None:
            continue
        custom_id, body = line
        if custom_id in seen:
            _error(
                parsed,
                "duplicate_custom_id",
                f"custom_id '{custom_id}' is already used on line {seen[custom_id]}.",
                number,
                "custom_id",
            )
            continue
        seen[custom_id] = number
        model = body.get("model")
        if isinstance(model, str):
            if parsed.model is None:
                parsed.model, model_line = model, number
            elif model != parsed.model:
                _error(
                    parsed,
                    "mixed_models",
                    f"All requests of a batch must use one model: line {model_line} uses '{parsed.model}', "
                    f"this line '{model}'.",
                    number,
                    "body.model",
                )
                continue
        parsed.lines.append(Line(number, custom_id, orjson.dumps(body).decode()))
    if count == 0:
        _error(parsed, "empty_file", "The input file has no requests.", None)
    return parsed


def _line(parsed: Parsed, raw: bytes, number: int, endpoint: str) -> tuple[str, dict[str, Any]] | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        _error(parsed, "invalid_json_line", "This line is not valid JSON.", number)
        return None
    if not isinstance(obj, dict):
        _error(parsed, "invalid_request", "Each line must be a JSON object.", number)
        return None
    custom_id = obj.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        _error(parsed, "missing_custom_id", "Each line needs a non-empty string 'custom_id'.", number, "custom_id")
        return None
    if len(custom_id) > 512:
        _error(parsed, "invalid_custom_id", "custom_id is longer than 512 characters.", number, "custom_id")
        return None
    method = obj.get("method", "POST")
    if method != "POST":
        _error(parsed, "invalid_method", f"method must be 'POST', not {method!r}.", number, "method")
        return None
    url = obj.get("url")
    if url != endpoint:
        _error(
            parsed,
            "invalid_url",
            f"url {url!r} does not match the batch's endpoint '{endpoint}'.",
            number,
            "url",
        )
        return None
    body = obj.get("body")
    if not isinstance(body, dict):
        _error(parsed, "invalid_body", "body must be a JSON object (the request).", number, "body")
        return None
    return custom_id, body
