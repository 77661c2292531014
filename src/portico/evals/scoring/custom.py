"""Custom scorers: any Python callable named ``package.module:function`` or ``path/file.py:function``.

The callable receives ``(output: str, case: EvalCase)`` and returns a bool, a float in
[0, 1] (passes at >= 0.5 unless the assertion sets ``threshold``), a :class:`Score`, or an
awaitable of one of those.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portico.evals.dataset import Assertion, EvalCase
from portico.evals.scoring.base import Score


class ScorerImportError(ValueError):
    """The reference does not name an importable callable."""


def load_callable(ref: str) -> Callable[..., Any]:
    module_ref, sep, attr = ref.rpartition(":")
    if not sep or not module_ref or not attr:
        raise ScorerImportError(f"custom scorer {ref!r} must look like 'package.module:function'")
    try:
        if module_ref.endswith(".py"):
            path = Path(module_ref)
            spec = importlib.util.spec_from_file_location(f"portico_eval_scorer_{path.stem}", path)
            if spec is None or spec.loader is None or not path.is_file():
                raise ScorerImportError(f"custom scorer file not found: {module_ref}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_ref)
    except ScorerImportError:
        raise
    except Exception as exc:  # any import-time failure of user code is a usage error
        raise ScorerImportError(f"cannot import {module_ref!r} for custom scorer: {exc}") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ScorerImportError(f"{module_ref!r} has no callable {attr!r}")
    return fn  # type: ignore[no-any-return]


def to_score(result: Any, threshold: float) -> Score:
    if isinstance(result, Score):
        return result
    if isinstance(result, bool):
        return Score.of(result)
    if isinstance(result, int | float):
        return Score(passed=float(result) >= threshold, value=float(result))
    if isinstance(result, dict) and "pass" in result:
        return Score(
            passed=bool(result["pass"]),
            value=float(result.get("score", 1.0 if result["pass"] else 0.0)),
            reason=str(result.get("reason", "")),
        )
    raise TypeError(f"custom scorer returned {type(result).__name__}; return bool, float or Score")


class PythonScorer:
    """Assertion ``{"type": "python", "value": "module:function"}``; one import per reference per run."""

    def __init__(self, default_ref: str | None = None) -> None:
        self._default = default_ref
        self._loaded: dict[str, Callable[..., Any]] = {}

    def resolve(self, ref: str) -> Callable[..., Any]:
        if ref not in self._loaded:
            self._loaded[ref] = load_callable(ref)
        return self._loaded[ref]

    async def score(self, output: str, assertion: Assertion, case: EvalCase) -> Score:
        ref = str(assertion.value or self._default or "")
        fn = self.resolve(ref)
        result = fn(output, case)
        if inspect.isawaitable(result):
            result = await result
        return to_score(result, float(assertion.options.get("threshold", 0.5)))
