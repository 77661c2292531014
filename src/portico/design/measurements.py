"""Measured figures the design uses (benchmark results shipped as data, or the user's own
replay), each with its source; see ``measurements.yaml``."""

from __future__ import annotations

import itertools
from importlib import resources
from pathlib import Path

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


def load_measurements(path: str | Path | None = None) -> Measurements:
    """The shipped benchmark results, with ``path`` (the user's own figures) laid over them."""
    text = resources.files("portico.design").joinpath("measurements.yaml").read_text(encoding="utf-8")
    shipped = _parse(text, "built-in measurements.yaml")
    if path is None:
        return shipped
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"measurements file {file} does not exist")
    return shipped.merged(_parse(file.read_text(encoding="utf-8"), str(file)))
