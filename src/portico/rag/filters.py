"""OpenAI's attribute filters (comparison and compound) compiled to a predicate.

Every backend evaluates filters with this one predicate (on a file's attributes), so a
filter means the same thing on each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from portico.errors import InvalidRequest

Attributes = Mapping[str, Any]
Predicate = Callable[[Attributes], bool]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "in": lambda a, b: a in b,
    "nin": lambda a, b: a not in b,
}


def compile_filter(spec: Any, where: str = "filters") -> Predicate:
    if not isinstance(spec, Mapping):
        raise InvalidRequest(f"'{where}' must be an object.", param=where)
    kind = spec.get("type")
    if kind in ("and", "or"):
        parts = spec.get("filters")
        if not isinstance(parts, list) or not parts:
            raise InvalidRequest(f"'{where}.filters' must be a non-empty list.", param=where)
        compiled = [compile_filter(p, f"{where}.filters[{i}]") for i, p in enumerate(parts)]
        if kind == "and":
            return lambda attrs: all(p(attrs) for p in compiled)
        return lambda attrs: any(p(attrs) for p in compiled)
    if kind not in _COMPARE:
        raise InvalidRequest(
            f"'{where}.type' must be one of {', '.join([*_COMPARE, 'and', 'or'])}.", param=f"{where}.type"
        )
    key, value = spec.get("key"), spec.get("value")
    if not isinstance(key, str) or not key:
        raise InvalidRequest(f"'{where}.key' must be a non-empty string.", param=f"{where}.key")
    if kind in ("in", "nin") and not isinstance(value, list):
        raise InvalidRequest(f"'{where}.value' must be a list for '{kind}'.", param=f"{where}.value")
    op = _COMPARE[kind]

    def match(attrs: Attributes) -> bool:
        if key not in attrs:
            return kind in ("ne", "nin")
        try:
            return bool(op(attrs[key], value))
        except TypeError:  # e.g. a string attribute compared with gt to a number
            return False

    return match
