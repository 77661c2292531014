"""The small promises of the door: streamed cost = non-streamed cost, request ids, routes without
/v1, CORS, Retry-After on retryable 503s, JSON bodies on the admin API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from portico.server import create_app
from portico.testing import Behaviour, FakeUpstream, make_settings, serve_in_thread

MASTER = "sk-details-master-0123456789"


@pytest.fixture
def gateway(thread_upstream: FakeUpstream, tmp_path: Path) -> Iterator[str]:
    settings = make_settings(
        [
            {
                "name": "gpt",
                "provider": "openai",
                "base_url": thread_upstream.base_url,
                "api_key": "sk-upstream-secret-1",
                "price": {"input_per_mtok": 150.0, "output_per_mtok": 600.0},
            },
            # no price in the config: the catalog's dated default for the name prices it everywhere
            {"name": "gpt-4o-mini", "provider": "openai", "base_url": thread_upstream.base_url, "api_key": "sk-u"},
        ],
        auth={"master_key": MASTER},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/d.db", "wal_dir": str(tmp_path / "wal")},
        files={"dir": str(tmp_path / "files")},
        resilience={"enabled": False},
        server={"cors": {"origins": ["https://app.example"]}},
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize("model", ["gpt", "gpt-4o-mini"])
def test_streamed_cost_equals_the_non_streamed_cost(gateway: str, model: str) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key=MASTER, max_retries=0)
    ask = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    raw = client.chat.completions.with_raw_response.create(**ask)  # type: ignore[call-overload]
    plain = float(raw.headers["x-portico-cost-usd"])
    last = None
    for chunk in client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True}):  # type: ignore[call-overload]
        if chunk.usage is not None:
            last = chunk
    assert last is not None and plain > 0
    assert (last.model_extra or {})["portico"]["cost_usd"] == pytest.approx(plain, rel=1e-6)


def test_request_ids_and_routes_without_v1(gateway: str) -> None:
    auth = {"Authorization": f"Bearer {MASTER}"}
    with httpx.Client(base_url=gateway) as client:
        for path in ("/v1/models", "/models", "/models/gpt", "/healthz", "/readyz", "/metrics", "/admin/keys"):
            r = client.get(path, headers={**auth, "x-request-id": f"req{path.replace('/', '-')}"})
            assert r.status_code == 200, (path, r.text)
            assert r.headers["x-request-id"] == f"req{path.replace('/', '-')}"
        missing = client.get("/nowhere", headers=auth)
        assert missing.status_code == 404 and missing.headers["x-request-id"].startswith("req-")
        denied = client.get("/models", headers={"x-request-id": "req-denied"})
        assert denied.status_code == 401 and denied.headers["x-request-id"] == "req-denied"
        body = {"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}
        assert client.post("/chat/completions", json=body, headers=auth).status_code == 200


def test_cors_preflight_and_answers(gateway: str) -> None:
    with httpx.Client(base_url=gateway) as client:
        ask = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
        pre = client.options("/v1/chat/completions", headers={**ask, "Access-Control-Request-Headers": "authorization"})
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == "https://app.example"
        assert "authorization" in pre.headers["access-control-allow-headers"]
        assert "POST" in pre.headers["access-control-allow-methods"]
        other = client.options("/v1/chat/completions", headers={**ask, "Origin": "https://evil.example"})
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
        r = client.get("/v1/models", headers={"Origin": "https://app.example", "Authorization": f"Bearer {MASTER}"})
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-request-id" in r.headers["access-control-expose-headers"]


def test_cors_is_off_by_default(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    ask = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    r = httpx.options(url + "/v1/chat/completions", headers=ask)
    assert r.status_code == 405 and "access-control-allow-origin" not in r.headers
    r = httpx.get(url + "/v1/models", headers={"Origin": "https://app.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_retryable_503_says_when_to_retry(gateway: str, thread_upstream: FakeUpstream) -> None:
    thread_upstream.push(Behaviour(kind="reset"))
    body = {"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}
    r = httpx.post(gateway + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {MASTER}"})
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1


def test_admin_json_without_content_type_or_415(gateway: str) -> None:
    def post(headers: dict[str, str]) -> tuple[int, dict[str, object]]:
        req = urllib.request.Request(
            gateway + "/admin/keys",
            data=json.dumps({"name": "k"}).encode(),
            headers={"Authorization": f"Bearer {MASTER}", **headers},
        )
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    raw = httpx.post(
        gateway + "/admin/keys", content=json.dumps({"name": "bare"}), headers={"Authorization": f"Bearer {MASTER}"}
    )
    assert raw.status_code == 201 and raw.json()["name"] == "bare"  # no Content-Type: read as JSON
    status, body = post({"Content-Type": "application/x-www-form-urlencoded"})  # what `curl -d` sends
    assert status == 415 and "Content-Type: application/json" in str(body["error"])
    status, _ = post({"Content-Type": "application/json"})
    assert status == 201


def test_slow_and_oversized_clients_are_cut(thread_upstream: FakeUpstream) -> None:
    import socket

    settings = make_settings(server={"body_timeout": 0.5, "max_header_lines": 50, "max_header_bytes": 8192})
    with serve_in_thread(create_app(settings)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:  # a body that never arrives
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408") and b"server.body_timeout" in answer
        for extra in ("X-Big: " + "a" * 100_000 + "\r\n", "".join(f"X-H{i}: v\r\n" for i in range(60))):
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode())
                assert s.recv(4096).startswith(b"HTTP/1.1 431")
        assert httpx.get(url + "/healthz").status_code == 200


def test_openapi_lists_every_route_with_its_level(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    doc = httpx.get(url + "/openapi.json").json()
    ops = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()}
    assert ops[("POST", "/v1/chat/completions")]["x-portico-access"] == "key"
    assert ops[("GET", "/healthz")]["x-portico-access"] == "public" and ops[("GET", "/healthz")]["security"] == []
    assert ops[("GET", "/admin/circuits")]["x-portico-access"] == "admin"
    assert all("x-portico-access" in op for op in ops.values())
    assert "ChatRequest" in doc["components"]["schemas"]
