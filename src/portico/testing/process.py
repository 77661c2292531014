"""`portico serve` as a real child process on a free port: start, wait until ready, kill -9, stop.

Used by the batch durability tests and ``bench/batch.py``; public so users can test their own
configs against a real process the same way.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GatewayProcess:
    """One `portico serve` process on a free port, started in its own process group."""

    def __init__(self, workdir: Path, config: dict[str, Any], name: str = "gw") -> None:
        self.workdir = workdir
        self.name = name
        self.port = free_port()
        self.config_path = workdir / f"{name}.yaml"
        self.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> GatewayProcess:
        cmd = [sys.executable, "-c", "from portico.cli import main; main()", "serve"]
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            [*cmd, "--config", str(self.config_path), "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,
            env=dict(os.environ),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # readiness poll of a child process
        raise RuntimeError(f"{self.name} not ready: {self.log_tail()}")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def log_tail(self, n: int = 2000) -> str:
        path = self.workdir / f"{self.name}.log"
        return path.read_text(errors="replace")[-n:] if path.exists() else ""
