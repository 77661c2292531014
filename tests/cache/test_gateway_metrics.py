"""Through the whole gateway: the cache header, cost and the lookup metrics the doctor reads."""

from __future__ import annotations

import httpx

from portico.server import create_app
from portico.testing import make_settings, serve_in_thread

BODY = {"model": "echo", "temperature": 0, "messages": [{"role": "user", "content": "hello there"}]}


def test_exact_hit_is_counted_and_costs_nothing() -> None:
    settings = make_settings(cache={"enabled": True, "tier": "exact"})
    with serve_in_thread(create_app(settings)) as url:
        first = httpx.post(url + "/v1/chat/completions", json=BODY)
        second = httpx.post(url + "/v1/chat/completions", json=BODY)
        uncached = httpx.post(url + "/v1/chat/completions", json={**BODY, "temperature": 0.7})
        metrics = httpx.get(url + "/metrics").text
    assert first.headers["x-portico-cache"] == "miss"
    assert second.headers["x-portico-cache"] == "exact"
    assert second.json()["choices"][0]["message"]["content"] == "hello there"
    assert second.json()["usage"]["total_tokens"] == 0 or float(second.headers["x-portico-cost-usd"]) == 0
    assert uncached.headers["x-portico-cache"] == "bypass"
    assert 'portico_cache_lookups_total{result="hit",tier="exact"} 1.0' in metrics
    assert 'portico_cache_lookups_total{result="miss",tier="exact"} 1.0' in metrics


def test_cache_off_by_default() -> None:
    with serve_in_thread(create_app(make_settings())) as url:
        resp = httpx.post(url + "/v1/chat/completions", json=BODY)
    assert resp.headers["x-portico-cache"] == "off"
