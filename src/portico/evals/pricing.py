"""Cost of a request: the gateway's ``x-portico-cost-usd`` header when present, else usage x price."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    input_per_1m: float
    output_per_1m: float


class PriceTable:
    """Model name -> price, as the gateway config's catalog defines it."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self._prices = dict(prices or {})

    def __bool__(self) -> bool:
        return bool(self._prices)

    def cost(self, model: str | None, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
        price = self._prices.get(model or "")
        if price is None or (prompt_tokens is None and completion_tokens is None):
            return None
        return ((prompt_tokens or 0) * price.input_per_1m + (completion_tokens or 0) * price.output_per_1m) / 1e6


def request_cost(
    header_cost: float | None,
    prices: PriceTable,
    models: tuple[str | None, ...],
    prompt_tokens: int | None,
    completion_tokens: int | None,
) -> tuple[float | None, str | None]:
    """(cost, source): the header wins because it includes what Portico knows (cache hits cost 0)."""
    if header_cost is not None:
        return header_cost, "header"
    for model in models:
        cost = prices.cost(model, prompt_tokens, completion_tokens)
        if cost is not None:
            return cost, "price"
    return None, None
