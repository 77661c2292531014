"""Turning pydantic validation errors into one clear 400 that names the field to fix."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from portico.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)


def validate_body(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = first["msg"]
        if first["type"] == "missing":
            message = f"Missing required parameter '{where}'."
        else:
            message = f"Invalid value for '{where}': {msg}."
        if len(errors) > 1:
            message += f" ({len(errors) - 1} more problem(s) in the request.)"
        raise InvalidRequest(message, param=where or None, code="invalid_value") from None
