"""Resilience under faults, through the real gateway (`portico serve` in a subprocess).

One model, three deployments: one dead (a closed port), one failing 30 % of requests with
random error types (500 / 502 / 503 / 429 / reset / malformed JSON / no first byte), one
healthy; plus a fallback model. N requests from C concurrent clients, once with
resilience on and once with `resilience.enabled: false` (one attempt, no breaker, no
fallback) as the baseline. Then a streaming variant where the upstreams cut 10 % of streams
at a random point: a cut stream must end with an SSE error event, never a clean [DONE]
(a "silent truncation" is a stream that ends without an error event but with less text
than the upstream's full answer).

    .venv/bin/python bench/faults.py [--requests 10000] [--concurrency 32] [--streams 2000]

Ends with: RESULT success_rate=.. baseline_success_rate=.. p99_ms=.. silent_truncations=..
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").exists() else sys.executable
REPLY = (
    "The quick brown fox jumps over the lazy dog while the gateway keeps every stream honest "
    "and every retry bounded by a deadline."
)
FLAKY_KINDS: list[dict[str, Any]] = [
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 502},
    {"kind": "status", "status": 503},
    # 429 without Retry-After: with one, the caller rests the deployment for that long and the
    # flaky deployment would mostly sit out the run (tests/resilience covers Retry-After)
    {"kind": "status", "status": 429},
    {"kind": "reset"},
    {"kind": "malformed"},
    {"kind": "hang"},  # no first byte: the deployment's first_token timeout (0.5 s) fires
]
CUT_KINDS = [{"kind": "cut_stream", "after_chunks": n} for n in (1, 2, 3, 4, 5, 6, 7)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_http(url: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < end:
            try:
                async with session.get(url) as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)  # readiness poll of a child process
    raise RuntimeError(f"{url} did not come up")


class Processes:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = Path(tempfile.mkdtemp(prefix="portico-faults-"))

    def spawn(self, name: str, args: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the child
        self.procs.append(subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_last(self) -> None:
        self.stop(self.procs.pop())

    def stop_all(self) -> None:
        while self.procs:
            self.stop_last()


def gateway_config(ports: dict[str, int], *, enabled: bool) -> dict[str, Any]:
    timeout = {"connect": 0.5, "first_token": 0.5, "inter_token": 1.0, "total": 10}

    def dep(port: int, name: str = "m") -> dict[str, Any]:
        return {
            "name": name,
            "provider": "openai",
            "base_url": f"http://127.0.0.1:{port}/v1",
            "timeout": timeout,
            "price": {"input_per_mtok": 0.15, "output_per_mtok": 0.6},
        }

    return {
        "server": {"log_level": "warning"},
        "embeddings": {"enabled": False},
        "models": [dep(ports["dead"]), dep(ports["flaky"]), dep(ports["healthy"]), dep(ports["healthy"], "backup")],
        "resilience": {"enabled": enabled, "models": {"m": {"fallbacks": ["backup"]}}},
    }


async def script(port: int, rate: float, kinds: list[dict[str, Any]], seed: int) -> None:
    body = {"queue": [], "default": {"kind": "ok"}, "failure_rate": rate, "failure_kinds": kinds, "seed": seed}
    async with aiohttp.ClientSession() as s, s.post(f"http://127.0.0.1:{port}/_control/script", json=body) as r:
        r.raise_for_status()


@dataclass
class Outcome:
    ok: bool
    seconds: float
    attempts: int
    silent: bool = False
    error_event: bool = False


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    gateway_cpu: float = 0.0  # seconds of CPU the gateway process used during the run

    def rate(self) -> float:
        return sum(o.ok for o in self.outcomes) / max(1, len(self.outcomes))

    def pct(self, q: float) -> float:
        xs = sorted(o.seconds for o in self.outcomes)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else 0.0

    def attempts(self) -> float:
        return statistics.fmean(o.attempts for o in self.outcomes) if self.outcomes else 0.0


async def one_chat(session: aiohttp.ClientSession, url: str, i: int) -> Outcome:
    body = {"model": "m", "messages": [{"role": "user", "content": f"request {i}"}]}
    t = time.perf_counter()
    try:
        async with session.post(url, json=body) as r:
            data = await r.read()
            attempts = int(r.headers.get("x-portico-attempts", "0") or 0)
            ok = r.status == 200 and orjson.loads(data)["choices"][0]["message"]["content"] == REPLY
    except (aiohttp.ClientError, ValueError, KeyError):
        ok, attempts = False, 0
    return Outcome(ok, time.perf_counter() - t, attempts)


async def one_stream(session: aiohttp.ClientSession, url: str, i: int) -> Outcome:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": f"stream {i}"}]}
    t = time.perf_counter()
    text: list[str] = []
    done = error = False
    attempts = 0
    try:
        async with session.post(url, json=body) as r:
            attempts = int(r.headers.get("x-portico-attempts", "0") or 0)
            if r.status != 200:
                await r.read()
                return Outcome(False, time.perf_counter() - t, attempts)  # a visible HTTP error
            async for raw in r.content:
                line = raw.strip()
                if not line.startswith(b"data: "):
                    continue
                data = line[6:]
                if data == b"[DONE]":
                    done = True
                    continue
                payload = orjson.loads(data)
                if "error" in payload:
                    error = True
                    continue
                for c in payload.get("choices") or []:
                    text.append((c.get("delta") or {}).get("content") or "")
    except (aiohttp.ClientError, ValueError):
        pass
    complete = "".join(text) == REPLY
    silent = not error and not complete  # ended "cleanly" (or just stopped) with part of the answer
    return Outcome(done and complete and not error, time.perf_counter() - t, attempts, silent, error)


async def load(url: str, n: int, concurrency: int, stream: bool) -> Run:
    run = Run()
    counter = iter(range(n))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            for i in counter:
                run.outcomes.append(await (one_stream if stream else one_chat)(session, url, i))

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run.seconds = time.perf_counter() - t
    return run


async def with_gateway(
    procs: Processes, ports: dict[str, int], enabled: bool, n: int, concurrency: int, stream: bool
) -> Run:
    port = free_port()
    cfg = procs.logs / f"portico-{'on' if enabled else 'off'}-{'stream' if stream else 'chat'}.yaml"
    cfg.write_text(yaml.safe_dump(gateway_config(ports, enabled=enabled)))
    procs.spawn(
        f"gateway-{port}",
        [str(ROOT / ".venv/bin/portico"), "serve", "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port)],
    )
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz")
        pid = procs.procs[-1].pid
        before = cpu_seconds(pid)
        run = await load(f"http://127.0.0.1:{port}/v1/chat/completions", n, concurrency, stream)
        run.gateway_cpu = cpu_seconds(pid) - before
        return run
    finally:
        procs.stop_last()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process: robust to a busy machine, unlike wall-clock latency."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, run: Run, *, stream: bool = False) -> None:
    line = (
        f"{name:<28} n={len(run.outcomes):>6}  success={run.rate():.4%}  p50={run.pct(0.5):7.1f} ms  "
        f"p99={run.pct(0.99):7.1f} ms  attempts/req={run.attempts():.3f}  "
        f"rps={len(run.outcomes) / max(run.seconds, 1e-9):6.0f}  "
        f"gateway_cpu/req={run.gateway_cpu / max(1, len(run.outcomes)) * 1000:.3f} ms"
    )
    if stream:
        errors = sum(o.error_event for o in run.outcomes)
        silent = sum(o.silent for o in run.outcomes)
        line += f"  sse_error_events={errors}  silent_truncations={silent}"
    print(line, flush=True)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--streams", type=int, default=2_000)
    args = ap.parse_args()

    ports = {"dead": free_port(), "flaky": free_port(), "healthy": free_port()}
    procs = Processes()
    try:
        for name in ("flaky", "healthy"):
            procs.spawn(name, [PY, "-m", "portico.testing.fake_upstream", "--port", str(ports[name]), "--reply", REPLY])
        for name in ("flaky", "healthy"):
            await wait_http(f"http://127.0.0.1:{ports[name]}/health")
        print(
            f"deployments of m: dead :{ports['dead']}, flaky (30 % errors) :{ports['flaky']}, "
            f"healthy :{ports['healthy']}; fallback model backup -> healthy; logs in {procs.logs}"
        )

        await script(ports["flaky"], 0.3, FLAKY_KINDS, seed=1)
        on = await with_gateway(procs, ports, True, args.requests, args.concurrency, stream=False)
        report("resilient (chat)", on)
        await script(ports["flaky"], 0.3, FLAKY_KINDS, seed=1)
        off = await with_gateway(procs, ports, False, args.requests, args.concurrency, stream=False)
        report("baseline: resilience off", off)

        for seed, name in ((2, "flaky"), (3, "healthy")):  # now the live upstreams cut 10 % of streams
            await script(ports[name], 0.1, CUT_KINDS, seed=seed)
        s_on = await with_gateway(procs, ports, True, args.streams, args.concurrency, stream=True)
        report("resilient (streams, 10 % cut)", s_on, stream=True)
        for seed, name in ((2, "flaky"), (3, "healthy")):
            await script(ports[name], 0.1, CUT_KINDS, seed=seed)
        s_off = await with_gateway(procs, ports, False, args.streams, args.concurrency, stream=True)
        report("baseline streams", s_off, stream=True)
    finally:
        procs.stop_all()

    silent = sum(o.silent for o in s_on.outcomes) + sum(o.silent for o in s_off.outcomes)
    print(
        f"RESULT success_rate={on.rate():.5f} baseline_success_rate={off.rate():.5f} p99_ms={on.pct(0.99):.1f} "
        f"silent_truncations={silent} p50_ms={on.pct(0.5):.1f} attempts_per_request={on.attempts():.3f} "
        f"baseline_p99_ms={off.pct(0.99):.1f} stream_success_rate={s_on.rate():.5f} "
        f"stream_error_events={sum(o.error_event for o in s_on.outcomes)}"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
