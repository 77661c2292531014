"""What tracing costs per request: the same gateway with tracing off (baseline) and on.

In-process (httpx over ASGI, no sockets), the ``echo`` model, storage off, so the gateway's
own work is all that is timed. "on" exports every span to an in-memory exporter
synchronously (an upper bound: the OTLP exporter batches in a background thread).
Alternating rounds, so machine load hits both sides alike.

    PYTHONPATH=$PWD/src .venv/bin/python bench/tracing_overhead.py [--requests 2000]

Ends with ``RESULT off_us=.. on_us=.. added_us=.. spans_per_request=..``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from portico.assembly import assemble
from portico.observability.settings import TracingSettings
from portico.observability.tracing import Tracing
from portico.server import PorticoApp
from portico.testing import make_settings

BODY = {"model": "echo", "messages": [{"role": "user", "content": "How far is the Moon?"}]}


async def round_trip(client: httpx.AsyncClient, n: int) -> float:
    """Mean microseconds per request over ``n`` sequential requests."""
    t0 = time.perf_counter()
    for _ in range(n):
        r = await client.post("/v1/chat/completions", json=BODY)
        assert r.status_code == 200, r.text
    return (time.perf_counter() - t0) / n * 1e6


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    settings = make_settings()
    exporter = InMemorySpanExporter()
    apps = {
        "off": PorticoApp(assemble(settings)),
        "on": PorticoApp(assemble(settings, tracing=Tracing.from_settings(TracingSettings(), exporter=exporter))),
    }
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        for name, app in apps.items()
    }
    times: dict[str, list[float]] = {"off": [], "on": []}
    per = max(1, args.requests // args.rounds)
    for client in clients.values():
        await round_trip(client, 50)  # warm-up
    exporter.clear()
    for _ in range(args.rounds):
        for name, client in clients.items():
            times[name].append(await round_trip(client, per))
    spans = len(exporter.get_finished_spans()) / (per * args.rounds)
    for client in clients.values():
        await client.aclose()
    for app in apps.values():
        await app.gateway.stop()
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    print(
        f"tracing off (baseline): {off:.0f} us/request; on: {on:.0f} us/request ({on / off:.2f}x), "
        f"{spans:.1f} spans per request"
    )
    print(f"RESULT off_us={off:.0f} on_us={on:.0f} added_us={on - off:.0f} spans_per_request={spans:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
