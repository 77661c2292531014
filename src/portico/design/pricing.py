"""What sending a slice of traffic to one model costs per month."""

from __future__ import annotations

import math
from dataclasses import dataclass

from portico.design.catalog import Catalog, CatalogModel


@dataclass(frozen=True, slots=True)
class Load:
    """Traffic sent to one model: monthly requests, tokens per request, peak requests/s."""

    requests: float
    input_tokens: float
    output_tokens: float
    peak_rps: float
    batch: bool = False


def servers_needed(m: CatalogModel, peak_rps: float, output_tokens: float) -> int:
    """Self-hosted servers to sustain the peak output token rate (at least one if used)."""
    if m.serving is None or peak_rps <= 0:
        return 0
    return max(1, math.ceil(peak_rps * output_tokens / m.serving.max_output_tok_s - 1e-9))


def monthly_cost(m: CatalogModel, load: Load, catalog: Catalog) -> float:
    """Token-priced models pay per token (batch discount if batched); self-hosted ones pay
    for the servers the peak needs, whatever the volume."""
    if load.requests <= 0:
        return 0.0
    if m.price is not None:
        per_request = (load.input_tokens * m.price.input_per_mtok + load.output_tokens * m.price.output_per_mtok) / 1e6
        discount = m.price.batch_discount if load.batch else 0.0
        return load.requests * per_request * (1.0 - discount)
    assert m.serving is not None  # the catalog loader guarantees price or serving
    servers = servers_needed(m, load.peak_rps, load.output_tokens)
    return servers * m.serving.usd_per_hour * catalog.a("hours_per_month")
