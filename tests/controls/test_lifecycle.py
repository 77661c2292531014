"""A request's life: a client that leaves cancels non-streamed work (the upstream call is
aborted, the ledger and audit say 499); an overall deadline bounds retries, hedges and
fallbacks together, and a hung upstream fails at it with a 504 that names it."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portico.server import create_app
from portico.storage.settings import StorageSettings
from portico.storage.sql import SqlStore
from portico.testing import Behaviour, FakeUpstream, make_settings, serve_in_thread

MASTER = "sk-life-master-0123456789"
AUTH = {"Authorization": f"Bearer {MASTER}"}
ASK = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}


def _settings(up: FakeUpstream, tmp_path: Path, **extra: Any) -> Any:
    deployment = {
        "provider": "openai",
        "base_url": up.base_url,
        "api_key": "sk-up-life",
        "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
    }
    return make_settings(
        [{"name": "m", **deployment}, {"name": "m2", **deployment}],
        auth={"master_key": MASTER},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/l.db", "wal_dir": str(tmp_path / "wal")},
        files={"dir": str(tmp_path / "files")},
        resilience={
            "defaults": {"retry": {"max_attempts": 3}, "hedge": {"enabled": True, "after": 0.2}},
            "models": {"m": {"fallbacks": ["m2"]}},
        },
        **extra,
    )


@pytest.fixture
def served(thread_upstream: FakeUpstream, tmp_path: Path) -> Iterator[tuple[str, FakeUpstream, StorageSettings]]:
    settings = _settings(thread_upstream, tmp_path)
    with serve_in_thread(create_app(settings)) as url:
        yield url, thread_upstream, StorageSettings(url=settings.storage.url, wal_dir=settings.storage.wal_dir)


async def _audit(storage: StorageSettings, request_id: str) -> dict[str, Any]:
    store = SqlStore(storage)
    await store.start()
    try:
        for _ in range(400):
            rows = await store.audit(request_id=request_id)
            if rows:
                return rows[0]
            await asyncio.sleep(0.05)  # condition poll: the server thread writes the row
        raise AssertionError(f"no audit row for {request_id}")
    finally:
        await store.close()


def _until(condition: Any, what: str, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)  # condition poll on another thread's state


async def test_a_client_that_leaves_cancels_the_upstream_call(
    served: tuple[str, FakeUpstream, StorageSettings],
) -> None:
    url, up, storage = served
    up.push(Behaviour(kind="hang"))
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(ASK).encode()
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {MASTER}\r\n"
        f"x-request-id: req-leaves\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    seen = len(up.requests)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request)
        _until(lambda: len(up.requests) > seen, "the upstream to receive the call")
    # the socket is closed: the gateway must notice, cancel the call and record it
    _until(lambda: up.disconnects >= 1, "the gateway to abort the upstream call")
    row = await _audit(storage, "req-leaves")
    assert row["status"] == 499 and row["error_code"] == "client_disconnected"
    circuits = httpx.get(url + "/admin/circuits", headers=AUTH).json()["deployments"]
    assert all(d["in_flight"] == 0 for d in circuits)
    r = httpx.post(url + "/v1/chat/completions", json=ASK, headers=AUTH, timeout=10)  # the next one is served
    assert r.status_code == 200


def test_a_hung_upstream_fails_at_the_requests_deadline(served: tuple[str, FakeUpstream, StorageSettings]) -> None:
    url, up, _ = served
    up.set_default(Behaviour(kind="hang"))
    started = time.monotonic()
    r = httpx.post(url + "/v1/chat/completions", json=ASK, headers={**AUTH, "x-portico-timeout": "1"}, timeout=30)
    elapsed = time.monotonic() - started
    # retries (3), a hedge and a fallback to m2 are all bounded by the one deadline
    assert r.status_code == 504 and elapsed < 8.0, (r.status_code, elapsed)  # 3 attempts x 60 s without it
    message = r.json()["error"]["message"]
    assert "x-portico-timeout" in message and "m#0" in message and "1 s" in message  # names the hung one
    up.set_default(Behaviour())
    bad = httpx.post(url + "/v1/chat/completions", json=ASK, headers={**AUTH, "x-portico-timeout": "soon"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "x-portico-timeout"


def test_the_deadline_comes_from_config_and_keys_and_the_header_only_lowers_it(
    thread_upstream: FakeUpstream, tmp_path: Path
) -> None:
    settings = _settings(thread_upstream, tmp_path, server={"request_timeout": 1.5})
    with serve_in_thread(create_app(settings)) as url:
        key = httpx.post(
            url + "/admin/keys", json={"name": "k", "metadata": {"request_timeout": 0.5}}, headers=AUTH
        ).json()["secret"]
        thread_upstream.set_default(Behaviour(kind="hang"))
        try:
            for headers, source, limit in (
                (AUTH, "server.request_timeout", 1.5),
                ({**AUTH, "x-portico-timeout": "60"}, "server.request_timeout", 1.5),  # cannot raise it
                ({"Authorization": f"Bearer {key}"}, "the key's request_timeout", 0.5),
            ):
                started = time.monotonic()
                r = httpx.post(url + "/v1/chat/completions", json=ASK, headers=headers, timeout=30)
                elapsed = time.monotonic() - started
                assert r.status_code == 504 and source in r.json()["error"]["message"]
                assert limit * 0.8 <= elapsed < limit + 5.0, (source, elapsed)  # loaded 2-core machine
        finally:
            thread_upstream.set_default(Behaviour())
