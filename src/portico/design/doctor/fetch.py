"""Fetch the gateway's Prometheus text from ``GET {url}/metrics``."""

from __future__ import annotations

import httpx

from portico.errors import InvalidRequest


def fetch_metrics_text(
    url: str,
    *,
    api_key: str | None = None,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> str:
    target = url.rstrip("/")
    if not target.endswith("/metrics"):
        target += "/metrics"
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            resp = client.get(target, headers=headers)
    except httpx.HTTPError as exc:
        raise InvalidRequest(f"cannot read {target}: {exc.__class__.__name__}: {exc}") from None
    if resp.status_code != 200:
        raise InvalidRequest(f"{target} answered HTTP {resp.status_code}")
    return resp.text
