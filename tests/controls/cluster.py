"""Several `portico serve` replicas on loopback sharing one Redis and one PostgreSQL.

Used by the multi-replica test and by bench/replicas.py (which runs it with larger numbers).
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from portico.auth.keys import KeyManager
from portico.storage.records import KeySpec
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore

MODEL = "gpt-4o-mini"
PRICE = {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0}  # expensive, so budgets run out fast


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def default_serve_cmd() -> list[str]:
    return [str(Path(sys.executable).with_name("portico")), "serve"]


@dataclass
class Cluster:
    workdir: Path
    upstream_base: str
    pg_url: str
    redis_url: str
    replicas: int = 3
    serve_cmd: list[str] = field(default_factory=default_serve_cmd)
    master_key: str = field(default_factory=lambda: "sk-master-" + uuid.uuid4().hex)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    procs: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    @property
    def schema(self) -> str:
        return f"portico_replicas_{self.run_id}"

    def storage(self, i: int = 0) -> StorageSettings:
        return StorageSettings(url=self.pg_url, schema_name=self.schema, wal_dir=str(self.workdir / f"wal-{i}"))

    def config_path(self, i: int) -> Path:
        return self.workdir / f"replica-{i}.yaml"

    def write_configs(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for i in range(self.replicas):
            cfg: dict[str, Any] = {
                "models": [
                    {
                        "name": MODEL,
                        "provider": "openai",
                        "base_url": self.upstream_base,
                        "api_key": "sk-upstream-dummy",
                        "price": PRICE,
                    }
                ],
                "embeddings": {"enabled": False},
                "server": {"log_level": "warning"},
                "auth": {"master_key": self.master_key},
                "storage": self.storage(i).model_dump(exclude_defaults=True) | {"url": self.pg_url},
                "limits": {"backend": "redis", "redis_url": self.redis_url, "key_prefix": f"pt-rep:{self.run_id}:"},
            }
            self.config_path(i).write_text(yaml.safe_dump(cfg), encoding="utf-8")

    async def prepare(self) -> None:
        """Configs written and the schema migrated once, before the replicas race to do it."""
        self.write_configs()
        store = SqlStore(self.storage())
        await store.start()
        await store.close()

    async def create_key(self, **spec: Any) -> tuple[str, str]:
        store = SqlStore(self.storage())
        await store.start()
        try:
            record, secret = await KeyManager(store).create(KeySpec(**spec))
        finally:
            await store.close()
        return record.id, secret

    def start(self, i: int | None = None) -> None:
        which = range(self.replicas) if i is None else [i]
        if not self.ports:
            self.ports = [free_port() for _ in range(self.replicas)]
            self.procs = [None] * self.replicas
        for r in which:
            log = open(self.workdir / f"replica-{r}.log", "ab")  # noqa: SIM115 - owned by the process
            cmd = [*self.serve_cmd, "--config", str(self.config_path(r)), "--port", str(self.ports[r])]
            self.procs[r] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
            log.close()
        for r in which:
            self.wait_ready(r)

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def wait_ready(self, i: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        proc = self.procs[i]
        assert proc is not None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"replica {i} exited: {self.log(i)[-2000:]}")
            try:
                if httpx.get(self.url(i) + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # readiness poll: a separate process offers nothing to wait on
        raise RuntimeError(f"replica {i} did not become ready: {self.log(i)[-2000:]}")

    def log(self, i: int) -> str:
        path = self.workdir / f"replica-{i}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill9(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.procs[i] = None

    def stop(self) -> None:
        """SIGTERM (graceful: the journal is flushed into the database), then wait."""
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for i, proc in enumerate(self.procs):
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                self.procs[i] = None

    async def drop_schema(self) -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(self.pg_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        finally:
            await engine.dispose()
        from redis.asyncio import Redis

        client = Redis.from_url(self.redis_url)
        keys = [k async for k in client.scan_iter(match=f"pt-rep:{self.run_id}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@dataclass
class Outcome:
    request_id: str
    status: int


async def blast(
    urls: list[str],
    secret: str,
    n: int,
    concurrency: int,
    *,
    max_tokens: int = 20,
    prefix: str = "req",
    answered: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Send ``n`` chat requests round-robin over ``urls`` with ``concurrency`` in flight;
    ``answered(count)`` is called after each complete 200 response."""
    sem = asyncio.Semaphore(concurrency)
    ok = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:

        async def one(i: int) -> Outcome:
            rid = f"{prefix}-{uuid.uuid4().hex[:12]}-{i}"
            body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "max_tokens": max_tokens}
            headers = {"Authorization": f"Bearer {secret}", "x-request-id": rid}
            async with sem:
                try:
                    r = await client.post(urls[i % len(urls)] + "/v1/chat/completions", json=body, headers=headers)
                    r.json()  # the whole body arrived
                except (httpx.HTTPError, ValueError):
                    return Outcome(rid, 0)  # no (complete) response
                if r.status_code == 200 and answered is not None:
                    nonlocal ok
                    ok += 1
                    answered(ok)
                return Outcome(rid, r.status_code)

        return list(await asyncio.gather(*(one(i) for i in range(n))))


async def ledger(cluster: Cluster, key_id: str) -> tuple[float, set[str]]:
    """(spend of the key, request ids in the audit log) from the shared database."""
    store = SqlStore(cluster.storage())
    await store.start()
    try:
        spend = sum(r.cost_usd for r in await store.spend("key", key_id=key_id))
        ids = {r["request_id"] for r in await store.audit(limit=1_000_000)}
    finally:
        await store.close()
    return spend, ids


def serve_cmd_from_env(value: str | None) -> list[str]:
    return shlex.split(value) if value else default_serve_cmd()


__all__ = ["Cluster", "Outcome", "blast", "free_port", "ledger", "serve_cmd_from_env"]
