"""The Batch API under load: throughput, fairness to interactive traffic, and kill -9 recovery.

Everything is a real process on loopback: the fake upstream (answering after ``--delay-ms``),
a `portico serve` gateway (SQLite storage), and this script as the client (the official
openai SDK for files and batches, httpx for the interactive load).

1. Throughput: a ``--lines``-line batch alone; ``batch_lines_per_s`` is its lines over the
   time from creation to completion.
2. Fairness: an open-loop interactive load (``--rps`` chat requests per second) in
   ``--pairs`` pairs of ``--seconds``-second windows, alternately alone and while a batch
   runs (a batch is created before the window and cancelled after it). Alternating short
   windows puts the drift of this shared machine's load on both sides alike; the p95 of all
   "beside" samples over the p95 of all "alone" samples is ``interactive_p95_ratio``.
3. A ``--kill-lines``-line batch; the gateway is killed with SIGKILL once a third of it is
   done and started again; the output file is checked for lost and duplicated custom_ids.

Usage: python bench/batch.py [--lines 10000] [--rps 20] [--pairs 6] [--seconds 5] [--delay-ms 100]

The upstream answers in 100 ms by default: faster than any real model, slow enough that the
ratio measures the gateway and not the fake upstream's own scheduling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from openai import OpenAI

from portico.testing.process import GatewayProcess, free_port

MODEL = "gpt-4o-mini"


def start_upstream(port: int, delay_ms: float, workdir: Path) -> subprocess.Popen[bytes]:
    log = (workdir / "upstream.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "portico.testing.fake_upstream", "--port", str(port), "--delay-ms", str(delay_ms)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)  # readiness poll of a child process
    raise RuntimeError("fake upstream did not start")


def gateway_config(workdir: Path, upstream_port: int, batch: dict[str, Any], durability: str) -> dict[str, Any]:
    return {
        "models": [
            {
                "name": MODEL,
                "provider": "openai",
                "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                "api_key": "sk-up",
                "price": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
            }
        ],
        "embeddings": {"enabled": False},
        "server": {"log_level": "warning"},
        "storage": {
            "enabled": True,
            "url": f"sqlite+aiosqlite:///{workdir}/p.db",
            "wal_dir": str(workdir / "wal"),
            "durability": durability,
        },
        "files": {"dir": str(workdir / "files")},
        "batch": {"lease_seconds": 3, "poll_seconds": 0.5, **batch},
    }


def batch_file(path: Path, n: int, prefix: str) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            body = {"model": MODEL, "messages": [{"role": "user", "content": f"Batch question {i}"}], "max_tokens": 16}
            fh.write(
                json.dumps(
                    {"custom_id": f"{prefix}-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}
                )
            )
            fh.write("\n")
    return path


async def interactive_load(url: str, rps: float, seconds: float) -> list[float]:
    """Open loop: request i is sent at start + i/rps whatever the latency; returns latencies (s)."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal errors
            body = {"model": MODEL, "messages": [{"role": "user", "content": f"Interactive {i}"}], "max_tokens": 16}
            t0 = time.perf_counter()
            r = await client.post("/v1/chat/completions", json=body)
            if r.status_code == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1

        start = time.perf_counter()
        tasks = []
        for i in range(int(rps * seconds)):
            delay = start + i / rps - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # the load's schedule
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    if errors:
        print(f"  interactive errors: {errors}")
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) >= 20 else max(values)


def wait_batch(client: OpenAI, batch_id: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    b = client.batches.retrieve(batch_id)
    while b.status not in ("completed", "failed", "expired", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.2)  # polling the public API, as a client does
        b = client.batches.retrieve(batch_id)
    return b


def kill_and_resume(gw: GatewayProcess, workdir: Path, n: int) -> tuple[int, int, float]:
    client = OpenAI(base_url=gw.url + "/v1", api_key="bench", max_retries=2)
    file = client.files.create(file=batch_file(workdir / "kill.jsonl", n, "kill").open("rb"), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline:
        b = client.batches.retrieve(batch.id)
        done = b.request_counts.completed if b.request_counts else 0
        if done >= n // 3:
            break
        time.sleep(0.05)  # polling for progress before the kill
    gw.kill9()
    killed_at = done
    gw.start()
    final = wait_batch(client, batch.id, timeout=600)
    if final.status != "completed" or not final.output_file_id:
        raise RuntimeError(f"batch after restart: {final.status}")
    ids = Counter(json.loads(x)["custom_id"] for x in client.files.content(final.output_file_id).text.splitlines())
    lost = n - len(ids)
    duplicated = sum(ids.values()) - len(ids)
    return lost, duplicated, killed_at / n


def fairness(
    client: OpenAI, url: str, workdir: Path, args: argparse.Namespace
) -> tuple[list[float], list[float], float]:
    file = client.files.create(file=batch_file(workdir / "fair.jsonl", 3000, "fair").open("rb"), purpose="batch")
    alone: list[float] = []
    beside: list[float] = []
    lines = 0
    busy_seconds = 0.0
    for _ in range(args.pairs):
        alone += asyncio.run(interactive_load(url, args.rps, args.seconds))
        batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        while client.batches.retrieve(batch.id).status == "validating":
            time.sleep(0.05)  # the window starts once lines are running
        started = time.perf_counter()
        beside += asyncio.run(interactive_load(url, args.rps, args.seconds))
        busy_seconds += time.perf_counter() - started
        client.batches.cancel(batch.id)
        done = wait_batch(client, batch.id, timeout=120)
        lines += done.request_counts.completed if done.request_counts else 0
    return alone, beside, lines / busy_seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--rps", type=float, default=20.0)
    ap.add_argument("--pairs", type=int, default=6, help="alone / beside window pairs")
    ap.add_argument("--seconds", type=float, default=5.0, help="each interactive window")
    ap.add_argument("--delay-ms", type=float, default=100.0, help="the fake upstream's answer time")
    ap.add_argument("--kill-lines", type=int, default=3000)
    ap.add_argument("--batch", default="{}", help='batch settings to override, JSON, e.g. {"busy_concurrency": 2}')
    ap.add_argument("--durability", default="wal", help="storage.durability of the gateway (wal, commit, none)")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="portico-bench-batch-"))
    up_port = free_port()
    upstream = start_upstream(up_port, args.delay_ms, workdir)
    gw = GatewayProcess(
        workdir, gateway_config(workdir, up_port, json.loads(args.batch), args.durability), "gateway"
    ).start()
    try:
        client = OpenAI(base_url=gw.url + "/v1", api_key="bench", max_retries=2)
        asyncio.run(interactive_load(gw.url, args.rps, 3))  # warm-up
        file = client.files.create(
            file=batch_file(workdir / "big.jsonl", args.lines, "req").open("rb"), purpose="batch"
        )
        created = time.perf_counter()
        batch = client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
        final = wait_batch(client, batch.id, timeout=1200)
        elapsed = time.perf_counter() - created
        if final.status != "completed" or final.request_counts is None:
            raise RuntimeError(f"the batch ended {final.status}")
        lines_per_s = final.request_counts.completed / elapsed
        alone, beside, busy_rate = fairness(client, gw.url, workdir, args)
        p95_alone, p95_beside = p95(alone), p95(beside)
        lost, duplicated, share = kill_and_resume(gw, workdir, args.kill_lines)
        print(
            f"upstream delay {args.delay_ms:.0f} ms; batch settings: defaults + {args.batch}; "
            f"storage durability {args.durability}"
        )
        print(
            f"  batch alone: {final.request_counts.completed}/{args.lines} lines in {elapsed:.1f} s "
            f"({lines_per_s:.0f} lines/s), cost ${(final.model_extra or {}).get('cost_usd', 0):.6f}"
        )
        print(
            f"  interactive load {args.rps:.0f} rps, "
            f"{args.pairs} x ({args.seconds:.0f} s alone, {args.seconds:.0f} s beside a batch)"
        )
        print(
            f"    alone:  n={len(alone)} p50 {statistics.median(alone) * 1000:6.1f} ms  p95 {p95_alone * 1000:6.1f} ms"
        )
        print(
            f"    beside: n={len(beside)} p50 {statistics.median(beside) * 1000:6.1f} ms  "
            f"p95 {p95_beside * 1000:6.1f} ms  (the batch ran {busy_rate:.0f} lines/s beside the load)"
        )
        print(
            f"  kill -9 at {share:.0%} of a {args.kill_lines}-line batch, restart: lost {lost}, duplicated {duplicated}"
        )
        print(f"  load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"RESULT batch_lines_per_s={lines_per_s:.0f} interactive_p95_ratio={p95_beside / p95_alone:.3f} "
            f"lost_lines_after_kill={lost} duplicated_lines={duplicated}"
        )
    finally:
        gw.stop()
        os.killpg(upstream.pid, 15)
        upstream.wait(10)


if __name__ == "__main__":
    main()
