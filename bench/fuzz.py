"""Hostile traffic against a real `portico serve`: generated requests, slow and oversized
clients, and a scan for leaked secrets. Prints one RESULT line.

    .venv/bin/python bench/fuzz.py                    # default budget (fits ~10 min on 2 cores)
    .venv/bin/python bench/fuzz.py --per-family 2000  # the issue's target per route family

1. schemathesis reads the gateway's own /openapi.json and sends generated requests (valid and
   invalid, per operation) with auth on (master key; storage, keys, ledger, audit on) and off
   (open dev mode). Route family = the first two path segments (/v1/chat, /admin/keys, ...).
   A response >= 500 that is not an upstream error (502/503/504 of type upstream_error)
   is a server error; a request without an answer within --timeout seconds is a hang; a
   traceback in the gateway's log is counted too.
2. Slow and oversized clients on loopback: a body trickled at 1 byte/s must be cut by the
   body-read timeout (server.body_timeout, 3 s here); 1 MB of headers and 10,000 header lines
   must get 431; 1,000 idle connections must not slow a normal request by more than 10x.
3. Secret scan: the master key, every virtual key secret (ours and the ones the fuzzer made)
   and the upstream key must not appear in the gateway's log, any error body, any audit or
   ledger row (every table of the database, and the journal), or the metrics.
4. routes_without_access_level: operations in /openapi.json without x-portico-access.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
MASTER = "sk-fuzz-master-7f3a9c1e5b2d4086"
UPSTREAM_KEY = "sk-fuzz-upstream-c0ffee1234567890"
UPSTREAM_ERRORS = {502, 503, 504}


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    hangs: int = 0
    unsendable: int = 0
    per_family: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    error_bodies: list[str] = field(default_factory=list)
    secrets_made: set[str] = field(default_factory=set)


def family(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts[:2]) if parts else "/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, tmp: Path, upstream: str, *, auth: bool) -> None:
    models = [
        {"name": "gpt", "provider": "openai", "base_url": upstream + "/v1", "api_key": UPSTREAM_KEY,
         "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}},
        {"name": "claude", "provider": "anthropic", "base_url": upstream, "api_key": UPSTREAM_KEY,
         "model": "claude-3-5-haiku-latest"},
        {"name": "echo", "provider": "echo"},
    ]  # fmt: skip
    config: dict[str, Any] = {
        "server": {"max_body_bytes": 256 * 1024, "body_timeout": 3, "log_level": "info"},
        "models": models,
        "embeddings": {"enabled": True, "max_inputs": 8},
        "files": {"dir": str(tmp / "files"), "max_bytes": 64 * 1024},
        "storage": {"enabled": True, "url": f"sqlite+aiosqlite:///{tmp}/fuzz.db", "wal_dir": str(tmp / "wal")},
    }
    if auth:
        config["auth"] = {"master_key": MASTER}
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML


class Gateway:
    """`portico serve` in a subprocess with its log in a file (only this process is stopped)."""

    def __init__(self, config: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        portico = str(Path(sys.executable).with_name("portico"))
        exe = [portico, "serve", "--config", str(config), "--port", str(self.port)]
        self.proc = subprocess.Popen(exe, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"gateway exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)  # readiness poll of a subprocess
        raise SystemExit(f"gateway not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def is_server_error(status: int, body: bytes) -> bool:
    if status < 500:
        return False
    if status in UPSTREAM_ERRORS:
        try:
            err = json.loads(body).get("error", {})
        except (ValueError, AttributeError):
            return True
        return not (isinstance(err, dict) and err.get("type") in ("upstream_error", "api_error", "overloaded_error"))
    return True


class Sender:
    """Sends one generated case and tallies what came back."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float, tally: Tally, label: str) -> None:
        self.url, self.headers, self.tally, self.label = url, headers, tally, label
        self.session = httpx.Client(base_url=url, timeout=timeout)

    def __call__(self, case: Any, fam: str) -> None:
        tally = self.tally
        kwargs = case.as_transport_kwargs(base_url=self.url, headers=self.headers)
        method, target = kwargs.pop("method"), kwargs.pop("url")
        body = kwargs.pop("json", None)
        content = kwargs.pop("data", None) if body is None else None
        try:
            r = self.session.request(
                method, target, json=body, content=content if isinstance(content, bytes | str) else None,
                params=kwargs.get("params"), headers=kwargs.get("headers"),
            )  # fmt: skip
        except httpx.TimeoutException:
            tally.hangs += 1
            tally.examples.append(f"[{self.label}] hang: {method} {target}")
            return
        except httpx.HTTPError:  # a generated header no HTTP client would send (CR, NUL...)
            tally.unsendable += 1
            return
        tally.requests += 1
        tally.per_family[fam] += 1
        if r.status_code >= 400:
            tally.error_bodies.append(r.text[:2000])
        elif r.status_code in (200, 201):
            try:
                made = r.json()
            except ValueError:
                made = None
            if isinstance(made, dict) and isinstance(made.get("secret"), str):
                tally.secrets_made.add(made["secret"])
        if is_server_error(r.status_code, r.content):
            tally.server_errors += 1
            if len(tally.examples) < 40:
                tally.examples.append(f"[{self.label}] {r.status_code} {method} {target}: {r.text[:200]}")


def _campaign(strategy: Any, quota: int, send: Sender, fam: str) -> None:
    """``quota`` generated cases from ``strategy``, each sent once (hypothesis drives generation)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import HypothesisException

    @settings(
        max_examples=quota, deadline=None, database=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=strategy)
    def run(case: Any) -> None:
        send(case, fam)

    with warnings.catch_warnings(), contextlib.suppress(HypothesisException):  # e.g. nothing to vary
        warnings.simplefilter("ignore")
        run()


def fuzz(url: str, headers: dict[str, str], per_family: int, timeout: float, tally: Tally, label: str) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    by_family = Counter(family(op.path) for op in operations)
    send = Sender(url, headers, timeout, tally, label)
    for op in operations:
        fam = family(op.path)
        quota = max(1, math.ceil(per_family / by_family[fam]) // 2)
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                strategy = op.as_strategy(generation_mode=mode)
            except Exception:  # no negative variant for an operation without inputs
                continue
            _campaign(strategy, quota, send, fam)
    send.session.close()


def slow_clients(url: str, key: str) -> dict[str, Any]:
    host, port = url.removeprefix("http://").split(":")
    out: dict[str, Any] = {}
    # a body trickled at 1 byte/s: the body-read timeout (3 s) must cut it; bounded at 20 s
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n".encode()
        )
        started = time.monotonic()
        answer = b""
        s.setblocking(False)
        for _ in range(20):
            try:
                s.sendall(b" ")
            except OSError:
                break
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:  # read for up to 1 s, then trickle the next byte
                try:
                    chunk = s.recv(4096)
                except BlockingIOError:
                    time.sleep(0.05)
                    continue
                answer += chunk
                break
            if answer:
                break
        out["trickle_cut_s"] = round(time.monotonic() - started, 1) if answer.startswith(b"HTTP/1.1 408") else -1
    # oversized headers: 1 MB in one header, then 10,000 header lines -> 431
    ok = 0
    for extra in ("X-Big: " + "a" * 1_000_000 + "\r\n", "".join(f"X-H{i}: v\r\n" for i in range(10_000))):
        with socket.create_connection((host, int(port)), timeout=20) as s:
            try:
                s.sendall(f"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n{extra}\r\n".encode())
                ok += s.recv(64).startswith(b"HTTP/1.1 431")
            except OSError:
                pass
    out["headers_431"] = ok
    # 1,000 idle connections must not delay a normal request by more than 10x
    ask = {"model": "gpt", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    auth = {"Authorization": f"Bearer {key}"}

    def p50() -> float:
        times = []
        with httpx.Client(base_url=url, timeout=30) as c:
            for _ in range(30):
                t = time.perf_counter()
                c.post("/v1/chat/completions", json=ask, headers=auth).raise_for_status()
                times.append(time.perf_counter() - t)
        return statistics.median(times)

    idle_base = p50()
    idle: list[socket.socket] = []
    try:
        for _ in range(1000):
            idle.append(socket.create_connection((host, int(port)), timeout=10))
        loaded = p50()
    finally:
        for s in idle:
            s.close()
    out["idle_conns"] = len(idle)
    out["idle_ratio"] = round(loaded / idle_base, 2)
    out["idle_p50_ms"] = round(loaded * 1000, 2)
    out["base_p50_ms"] = round(idle_base * 1000, 2)
    return out


def scan_secrets(secrets: set[str], tmp: Path, logs: list[Path], bodies: list[str], metrics: list[str]) -> list[str]:
    places: list[tuple[str, str]] = [(str(p), p.read_text(errors="replace")) for p in logs]
    places.append(("error bodies", "\n".join(bodies)))
    places.extend(("metrics", m) for m in metrics)
    db = tmp / "fuzz.db"
    if db.exists():
        con = sqlite3.connect(db)
        for (table,) in con.execute("select name from sqlite_master where type='table'"):
            if table in ("portico_keys",):  # key hashes, never secrets; checked like the rest below
                pass
            rows = con.execute(f'select * from "{table}"').fetchall()
            places.append((f"table {table}", repr(rows)))
        con.close()
    for p in (tmp / "wal").glob("**/*"):
        if p.is_file():
            places.append((str(p), p.read_text(errors="replace")))
    return [f"{where}: {s[:10]}..." for where, text in places for s in secrets if s and s in text]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--per-family",
        type=int,
        default=300,
        help="generated requests per route family (half valid, half not), per auth mode",
    )
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds without an answer = a hang")
    ap.add_argument("--skip-slow-clients", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from portico.testing import FakeUpstream

    started = time.monotonic()
    up = FakeUpstream(reply="Fuzzed answer.").start_in_thread()
    tally = Tally()
    logs: list[Path] = []
    metrics: list[str] = []
    unlevelled = 0
    tracebacks = 0
    slow: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="portico-fuzz-") as name:
        tmp = Path(name)
        secrets = {MASTER, UPSTREAM_KEY}
        for auth in (True, False):
            run_dir = tmp / ("auth" if auth else "open")
            run_dir.mkdir()
            config = run_dir / "portico.yaml"
            write_config(config, run_dir, up.url, auth=auth)
            gw = Gateway(config, run_dir / "gateway.log")
            logs.append(gw.log)
            try:
                gw.wait_ready()
                headers = {"Authorization": f"Bearer {MASTER}"} if auth else {}
                key = MASTER
                if auth:
                    made = httpx.post(gw.url + "/admin/keys", json={"name": "fuzz"}, headers=headers, timeout=30)
                    key = made.json()["secret"]
                    secrets.add(key)
                doc = httpx.get(gw.url + "/openapi.json", timeout=30).json()
                unlevelled += sum(
                    1 for item in doc["paths"].values() for op in item.values() if "x-portico-access" not in op
                )
                fuzz(gw.url, headers, args.per_family, args.timeout, tally, "auth" if auth else "open")
                if auth and not args.skip_slow_clients:
                    slow = slow_clients(gw.url, key)
                metrics.append(httpx.get(gw.url + "/metrics", headers=headers, timeout=30).text)
            finally:
                gw.stop()
            secrets |= tally.secrets_made
            found = scan_secrets(secrets, run_dir, [gw.log], tally.error_bodies, metrics)
            for f in found:
                tally.examples.append(f"secret in {f}")
            slow.setdefault("secrets_found", 0)
            slow["secrets_found"] += len(found)
            text = gw.log.read_text(errors="replace")
            tracebacks += text.count("Traceback")
            if "Traceback" in text:
                tally.examples.append(
                    f"traceback in the {run_dir.name} gateway log: {text[text.index('Traceback') :][:600]}"
                )
    up.stop_thread()
    for line in tally.examples[:40]:
        print(" -", line)
    families = dict(sorted(tally.per_family.items()))
    print("requests per route family:", json.dumps(families))
    print(f"slow clients: {json.dumps({k: v for k, v in slow.items() if k != 'secrets_found'})}")
    print(f"generated but not sendable by an HTTP client (invalid header bytes): {tally.unsendable}")
    print(f"elapsed {time.monotonic() - started:.0f} s, per-family budget {args.per_family} per auth mode")
    print(
        "RESULT "
        f"fuzz_requests={tally.requests} fuzz_server_errors={tally.server_errors} fuzz_hangs={tally.hangs} "
        f"secrets_found={slow.get('secrets_found', 0)} routes_without_access_level={unlevelled} "
        f"tracebacks={tracebacks} min_family_requests={min(families.values(), default=0)} "
        f"trickle_cut_s={slow.get('trickle_cut_s', 'nan')} headers_431={slow.get('headers_431', 'nan')}/2 "
        f"idle_ratio={slow.get('idle_ratio', 'nan')}"
    )


if __name__ == "__main__":
    main()
