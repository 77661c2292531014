"""The price catalog: USD per million tokens per model, from config with dated defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

DEFAULTS = Path(__file__).with_name("data") / "prices.yaml"
BATCH_TIER = "portico.limits.batch_price"  # ctx.state: True for Batch API lines, priced at the batch tier
DEFAULT_BATCH_DISCOUNT = 0.5  # OpenAI's and Anthropic's batch price is half the interactive one


@dataclass(slots=True, frozen=True)
class ModelPrice:
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6

    def discounted(self, discount: float) -> ModelPrice:
        return ModelPrice(self.input_per_mtok * (1 - discount), self.output_per_mtok * (1 - discount))


FREE = ModelPrice(0.0, 0.0)


class _PricedModel(Protocol):
    """What the catalog needs of a configured model (portico.config.ModelSettings has it)."""

    name: str

    @property
    def upstream_model(self) -> str: ...


def load_price_file(path: str | Path) -> tuple[str, dict[str, ModelPrice]]:
    raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    models: Mapping[str, Any] = raw.get("models", raw) if isinstance(raw, Mapping) else {}
    out = {
        str(name): ModelPrice(float(p.get("input_per_mtok", 0.0)), float(p.get("output_per_mtok", 0.0)))
        for name, p in models.items()
        if isinstance(p, Mapping)
    }
    return str(raw.get("as_of", "")) if isinstance(raw, Mapping) else "", out


class PriceCatalog:
    """Prices by gateway model name; a model with no known price is free (a local model)."""

    def __init__(
        self, prices: Mapping[str, ModelPrice], *, as_of: str = "", batch: Mapping[str, ModelPrice] | None = None
    ) -> None:
        self._prices = dict(prices)
        self._batch = dict(batch or {})
        self.as_of = as_of

    @classmethod
    def build(
        cls,
        models: Iterable[_PricedModel],
        *,
        extra_file: str | None = None,
        fixed: Mapping[str, ModelPrice] | None = None,
    ) -> PriceCatalog:
        """Explicit ``price:`` in config wins; else the defaults by name, then by upstream model id.
        ``fixed`` prices (the embedding model's) win over everything."""
        as_of, defaults = load_price_file(DEFAULTS)
        if extra_file:
            defaults.update(load_price_file(extra_file)[1])
        prices = dict(defaults)
        batch: dict[str, ModelPrice] = {}
        for m in models:
            explicit = "price" in getattr(m, "model_fields_set", ()) and getattr(m, "price", None) is not None
            if explicit:
                p = m.price  # type: ignore[attr-defined]
                prices[m.name] = ModelPrice(float(p.input_per_mtok), float(p.output_per_mtok))
            elif m.name not in defaults and m.upstream_model in defaults:
                prices[m.name] = defaults[m.upstream_model]
            own = getattr(m, "batch_price", None)
            if own is not None:
                batch[m.name] = ModelPrice(float(own.input_per_mtok), float(own.output_per_mtok))
            elif m.name in prices:
                discount = float(getattr(m, "batch_discount", DEFAULT_BATCH_DISCOUNT))
                batch[m.name] = prices[m.name].discounted(discount)
        prices.update(fixed or {})
        return cls(prices, as_of=as_of, batch=batch)

    def price(self, model: str, *, batch: bool = False) -> ModelPrice:
        if batch:
            own = self._batch.get(model)
            return own if own is not None else self.price(model).discounted(DEFAULT_BATCH_DISCOUNT)
        return self._prices.get(model, FREE)

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int, *, batch: bool = False) -> float:
        return self.price(model, batch=batch).cost(prompt_tokens, completion_tokens)

    def known(self) -> dict[str, ModelPrice]:
        return dict(self._prices)


def settings_catalog(settings: Any) -> PriceCatalog:
    """The one price catalog of a configuration (``portico.config.Settings``): explicit model
    prices, the dated defaults by name or upstream model, ``limits.prices_file``, and the
    embedding model's ``embeddings.price``. Settlement, admission, cost fill-in and the
    deployments' own cost all read it."""
    fixed: dict[str, ModelPrice] = {}
    emb = getattr(settings, "embeddings", None)
    if emb is not None and emb.enabled:
        fixed[emb.model_name] = ModelPrice(float(emb.price.input_per_mtok), float(emb.price.output_per_mtok))
    limits = getattr(settings, "limits", None)
    return PriceCatalog.build(settings.models, extra_file=getattr(limits, "prices_file", None), fixed=fixed)
