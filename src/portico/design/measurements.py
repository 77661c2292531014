"""Measured figures the design uses (benchmark results shipped as data, or the user's own
replay), each with its source; see ``measurements.yaml``."""

from __future__ import annotations

import itertools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portico.errors import ConfigError


class Measurement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float | None = None
    points: tuple[tuple[float, float], ...] = ()
    source: str = Field(min_length=1)

    def at(self, x: float) -> float:
        """Piecewise-linear interpolation over ``points`` (clamped at both ends)."""
        pts = sorted(self.points)
        if not pts:
            raise ConfigError(f"measurement from '{self.source}' has no points")
        if x <= pts[0][0]:
            return pts[0][1]
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            if x <= x1:
                return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1
        return pts[-1][1]


class Measurements(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    figures: dict[str, Measurement]

    def v(self, key: str) -> float:
        m = self.get(key)
        if m.value is None:
            raise ConfigError(f"measurement '{key}' has points, not a value")
        return m.value

    def get(self, key: str) -> Measurement:
        try:
            return self.figures[key]
        except KeyError:
            raise ConfigError(f"measurements: missing '{key}'") from None

    def source(self, key: str) -> str:
        return self.get(key).source

    def merged(self, other: Measurements) -> Measurements:
        return Measurements(figures={**self.figures, **other.figures})


def _parse(text: str, where: str) -> Measurements:
    try:
        raw = yaml.safe_load(text) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: the top level must be a mapping of measurement names")
        return Measurements(figures={k: Measurement.model_validate(v) for k, v in raw.items()})
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {loc}: {first['msg']}") from None


def _from_eval_report(raw: dict[str, Any], where: str) -> Measurements:
    """A `portico eval` report: the cache hit rate measured by replaying your traffic."""
    figures: dict[str, Measurement] = {}
    for s in raw.get("summaries") or []:
        hit = s.get("cache_hit_rate")
        if isinstance(hit, int | float):
            figures["cache_hit_rate"] = Measurement(
                value=float(hit), source=f"your replay: {where} (target {s.get('target')}, {s.get('rows')} rows)"
            )
            break
    if not figures:
        raise ConfigError(
            f"{where}: the eval report has no cache_hit_rate (replay through a gateway with the cache on)"
        )
    return Measurements(figures=figures)


def _from_result_line(text: str, where: str) -> Measurements:
    """`portico eval router` output: its RESULT line's CPT(50%) and CPT(80%) on your routes."""
    line = next((x for x in text.splitlines() if x.startswith("RESULT ")), "")
    values = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    try:
        c50, c80 = float(values["mmlu_cpt50"]), float(values["mmlu_cpt80"])
    except (KeyError, ValueError):
        raise ConfigError(
            f"{where}: no RESULT line with mmlu_cpt50 and mmlu_cpt80 (from `portico eval router`)"
        ) from None
    curve = Measurement(
        points=((0.0, 0.0), (0.5, c50), (0.8, c80), (1.0, 1.0)),
        source=f"your router replay: {where} RESULT mmlu_cpt50={c50:g} mmlu_cpt80={c80:g}",
    )
    return Measurements(figures={"router_strong_share_curve": curve})


def _user_file(file: Path) -> Measurements:
    text = file.read_text(encoding="utf-8")
    where = str(file)
    if text.lstrip().startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where} is not valid JSON: {exc}") from None
        if isinstance(raw, dict) and "portico_eval_report" in raw:
            return _from_eval_report(raw, where)
    if any(x.startswith("RESULT ") for x in text.splitlines()):
        return _from_result_line(text, where)
    return _parse(text, where)


def load_measurements(path: str | Path | None = None) -> Measurements:
    """The shipped benchmark results, with ``path`` (the user's own figures) laid over them: a
    measurements YAML, a `portico eval` report JSON (cache hit rate on your traffic) or the
    output of `portico eval router` (its RESULT line: the router curve on your routes)."""
    text = resources.files("portico.design").joinpath("measurements.yaml").read_text(encoding="utf-8")
    shipped = _parse(text, "built-in measurements.yaml")
    if path is None:
        return shipped
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"measurements file {file} does not exist")
    return shipped.merged(_user_file(file))
