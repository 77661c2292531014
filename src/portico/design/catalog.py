"""The model catalog: what `portico design` chooses from, loaded from ``catalog.yaml``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portico.errors import ConfigError

Hosting = Literal["api", "self_hosted", "embedded"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Strict):
    source: str
    date: str | None = None


class CatalogPrice(Sourced):
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    batch_discount: float = Field(default=0.0, ge=0, lt=1)


class CatalogLatency(Sourced):
    ttft_ms: float = Field(gt=0)
    output_tok_s: float = Field(gt=0)


class CatalogQuality(Sourced):
    score: float = Field(ge=0, le=1)
    benchmark: str


class Serving(Sourced):
    """Self-hosted serving: one server's price and aggregate output throughput."""

    runtime: str
    gpu: str
    usd_per_hour: float = Field(ge=0)
    max_output_tok_s: float = Field(gt=0)


class CatalogModel(_Strict):
    name: str
    provider: Literal["local", "openai", "anthropic"]
    hosting: Hosting
    base_url: str | None = None
    api_key_env: str | None = None
    upstream_model: str | None = None
    regions: tuple[str, ...] = ("any",)
    baa: bool = False
    params_b: float | None = None
    quantized: str | None = None
    context_window: int = Field(gt=0)
    strengths: tuple[str, ...] = ("general",)
    tool_use: bool = True
    # Task-specific quality (e.g. {code: 0.87} from HumanEval) where the catalog has one;
    # otherwise the general proxy stands in.
    task_scores: dict[str, float] = Field(default_factory=dict)
    price: CatalogPrice | None = None
    serving: Serving | None = None
    latency: CatalogLatency
    quality: CatalogQuality

    @property
    def self_hosted(self) -> bool:
        return self.hosting != "api"

    @property
    def endpoint(self) -> str:
        """The failure domain: models behind the same endpoint fail together."""
        return self.base_url or f"embedded:{self.name}"

    def typical_latency_ms(self, output_tokens: float) -> float:
        return self.latency.ttft_ms + 1000.0 * output_tokens / self.latency.output_tok_s

    def quality_for(self, task: str) -> float:
        return self.task_scores.get(task, self.quality.score)


class Assumption(_Strict):
    value: float
    source: str


class Catalog(_Strict):
    version: str
    assumptions: dict[str, Assumption]
    models: tuple[CatalogModel, ...]

    def a(self, key: str) -> float:
        """An assumption's value; a missing key is a catalog error."""
        try:
            return self.assumptions[key].value
        except KeyError:
            raise ConfigError(f"catalog: missing assumption '{key}'") from None

    def model(self, name: str) -> CatalogModel:
        for m in self.models:
            if m.name == name:
                return m
        raise ConfigError(f"catalog: no model named '{name}'")


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load ``path`` or the catalog shipped with Portico."""
    if path is None:
        text = resources.files("portico.design").joinpath("catalog.yaml").read_text(encoding="utf-8")
        where = "built-in catalog.yaml"
    else:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"catalog file {file} does not exist")
        text, where = file.read_text(encoding="utf-8"), str(file)
    try:
        raw = yaml.safe_load(text)
        catalog = Catalog.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {loc}: {first['msg']}") from None
    for m in catalog.models:
        if m.price is None and m.serving is None:
            raise ConfigError(f"{where}: model '{m.name}' needs a price (API) or serving (self-hosted)")
    return catalog
