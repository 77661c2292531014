"""Responses API CPU per request beside chat completions, on one gateway process in one run.

Starts the shared harness's fake upstream (CPU 0) and one Portico (CPU 1, the plain
pipeline of bench/configs/plain.yaml), then drives the same small request through
``/v1/chat/completions`` and ``/v1/responses`` with wrk, alternating the two endpoints for
``--rounds`` rounds so that drift on a shared machine hits both alike. The gateway's CPU
time (utime + stime from /proc) per completed request is the figure; the medians of the
rounds are printed, ending with one ``RESULT`` line.

    bash bench/overhead.sh responses        # or: python bench/responses_overhead.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = """
wrk.method = "POST"
wrk.path = os.getenv("REQ_PATH")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-1234"
wrk.body = os.getenv("BODY")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"errors":%d}\\n', summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""
SYSTEM, USER = "You are a helpful assistant.", "Say hello in one short sentence."
BODIES = {
    "chat": (
        "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
            "max_tokens": 32,
            "temperature": 0,
        },
    ),
    # The same request in the Responses shape; stored as by default (store: true).
    "responses": (
        "/v1/responses",
        {
            "model": "gpt-4o-mini",
            "instructions": SYSTEM,
            "input": USER,
            "max_output_tokens": 32,
            "temperature": 0,
            "store": os.environ.get("RESPONSES_STORE", "1") == "1",
        },
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(url: str, body: dict[str, object], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    data = json.dumps(body).encode()
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)  # polling a server we just started; it has no readiness signal to wait on
    raise SystemExit(f"gateway at {url} not ready after {timeout}s")


def run_wrk(port: int, kind: str, seconds: int, conns: int, lua: Path) -> int:
    path, body = BODIES[kind]
    env = {**os.environ, "REQ_PATH": path, "BODY": json.dumps(body)}
    cmd = [
        "taskset",
        "-c",
        "0",
        "wrk",
        "-t1",
        f"-c{conns}",
        f"-d{seconds}s",
        "-s",
        str(lua),
        f"http://127.0.0.1:{port}",
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(r"WRK_JSON (\{.*\})", out)
    if m is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    stats = json.loads(m.group(1))
    if stats["errors"]:
        raise SystemExit(f"{kind}: {stats['errors']} errors in {stats['requests']} requests")
    return int(stats["requests"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "3")))
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("DURATION", "8")))
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--harness", default=os.environ.get("HARNESS", str(ROOT.parent / "shared/bench/gateway")))
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="portico-responses-bench-"))
    up_port, gw_port = free_port(), free_port()
    config = (ROOT / "bench/configs/plain.yaml").read_text().replace("18000", str(up_port))
    (work / "portico.yaml").write_text(config)
    (work / "bench.lua").write_text(LUA)
    py = str(ROOT / ".venv/bin/python")
    upstream = subprocess.Popen(
        ["taskset", "-c", "0", py, f"{args.harness}/upstream.py", "--port", str(up_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    gateway = subprocess.Popen(
        [
            "taskset",
            "-c",
            "1",
            str(ROOT / ".venv/bin/portico"),
            "serve",
            "--config",
            str(work / "portico.yaml"),
            "--port",
            str(gw_port),
        ],
        stdout=open(work / "gateway.log", "wb"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for kind in BODIES:
            path, body = BODIES[kind]
            wait_ready(f"http://127.0.0.1:{gw_port}{path}", body)
        for kind in BODIES:  # warm-up, discarded
            run_wrk(gw_port, kind, 3, args.conns, work / "bench.lua")
        per_req: dict[str, list[float]] = {k: [] for k in BODIES}
        rps: dict[str, list[float]] = {k: [] for k in BODIES}
        for _ in range(args.rounds):
            for kind in BODIES:
                before = cpu_seconds(gateway.pid)
                n = run_wrk(gw_port, kind, args.seconds, args.conns, work / "bench.lua")
                used = cpu_seconds(gateway.pid) - before
                per_req[kind].append(1000 * used / n)
                rps[kind].append(n / args.seconds)
                print(f"# {kind:9s} requests={n} cpu_ms_per_req={per_req[kind][-1]:.3f}", flush=True)
    finally:
        for proc in (gateway, upstream):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    chat, resp = statistics.median(per_req["chat"]), statistics.median(per_req["responses"])
    print(
        f"RESULT responses_cpu_ms_per_req={resp:.3f} chat_cpu_ms_per_req={chat:.3f} "
        f"ratio={resp / chat:.3f} responses_rps={statistics.median(rps['responses']):.1f} "
        f"chat_rps={statistics.median(rps['chat']):.1f} rounds={args.rounds}"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
