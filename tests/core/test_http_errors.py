"""Bad input gets the right status and an OpenAI-style error that says what to fix."""

from __future__ import annotations

import json

import httpx
import pytest

from portico.testing import FakeUpstream


def _post(url: str, body: object, *, raw: bytes | None = None, path: str = "/v1/chat/completions") -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(url + path, content=content, headers={"content-type": "application/json"}, timeout=10)


def _assert_error(resp: httpx.Response, status: int, needle: str) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert needle.lower() in err["message"].lower(), err
    assert "Traceback" not in resp.text
    assert resp.headers["x-request-id"]
    return err


MSG = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("body", "status", "needle", "param"),
    [
        ({"model": "echo", "messages": []}, 400, "messages", "messages"),
        ({"model": "echo", "messages": "hi"}, 400, "messages", "messages"),
        ({"model": "echo"}, 400, "missing required parameter 'messages'", "messages"),
        ({"messages": MSG}, 400, "'model'", "model"),
        (
            {"model": "echo", "messages": [{"role": "wizard", "content": "x"}]},
            400,
            "messages.0.role",
            "messages.0.role",
        ),
        ({"model": "echo", "messages": MSG, "temperature": 5}, 400, "temperature", "temperature"),
        ({"model": "echo", "messages": MSG, "max_tokens": 0}, 400, "max_tokens", "max_tokens"),
        ({"model": "echo", "messages": MSG, "stop": ["a", "b", "c", "d", "e"]}, 400, "at most 4", "stop"),
        (
            {"model": "echo", "messages": MSG, "response_format": {"type": "yaml"}},
            400,
            "response_format",
            "response_format",
        ),
        ({"model": "echo", "messages": MSG, "stream_options": {"include_usage": True}}, 400, "stream", None),
        ({"model": "nope-model", "messages": MSG}, 404, "does not exist", "model"),
    ],
)
def test_bad_requests(
    served: tuple[str, FakeUpstream], body: object, status: int, needle: str, param: str | None
) -> None:
    url, _ = served
    err = _assert_error(_post(url, body), status, needle)
    if param is not None:
        assert err["param"] == param


def test_malformed_json_and_non_object(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    _assert_error(_post(url, None, raw=b"{not json"), 400, "not valid JSON")
    _assert_error(_post(url, None, raw=b"[1, 2]"), 400, "JSON object")
    _assert_error(_post(url, None, raw=b""), 400, "empty")


def test_body_over_limit_is_413(served: tuple[str, FakeUpstream]) -> None:
    url, up = served
    big = {"model": "gpt", "messages": [{"role": "user", "content": "x" * 70_000}]}
    _assert_error(_post(url, big), 413, "limit")
    assert up.requests == []  # nothing reached the upstream


def test_unknown_route_and_method(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    _assert_error(httpx.get(url + "/v1/nothing"), 404, "No route")
    _assert_error(httpx.get(url + "/v1/chat/completions"), 405, "not allowed")


def test_embeddings_errors(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    _assert_error(_post(url, {"model": "local-embed"}, path="/v1/embeddings"), 400, "input")
    _assert_error(_post(url, {"model": "other", "input": "x"}, path="/v1/embeddings"), 404, "local-embed")


@pytest.mark.parametrize(
    ("behaviour", "status", "needle"),
    [
        ({"kind": "status", "status": 500}, 502, "injected fault"),
        ({"kind": "status", "status": 503}, 502, "injected fault"),
        ({"kind": "status", "status": 400, "message": "bad tool schema"}, 400, "bad tool schema"),
        ({"kind": "status", "status": 401, "message": "invalid upstream key"}, 401, "invalid upstream key"),
        ({"kind": "malformed"}, 502, "malformed"),
        ({"kind": "reset"}, 503, "closed the connection"),
    ],
)
def test_upstream_failures_map_to_gateway_errors(
    served: tuple[str, FakeUpstream], behaviour: dict[str, object], status: int, needle: str
) -> None:
    from portico.testing import Behaviour

    url, up = served
    up.push(Behaviour.from_dict(behaviour))
    _assert_error(_post(url, {"model": "gpt", "messages": MSG}), status, needle)


def test_upstream_429_relays_retry_after(served: tuple[str, FakeUpstream]) -> None:
    from portico.testing import Behaviour

    url, up = served
    up.push(Behaviour(kind="status", status=429, retry_after=7, message="slow down"))
    resp = _post(url, {"model": "gpt", "messages": MSG})
    _assert_error(resp, 429, "slow down")
    assert resp.headers["retry-after"] == "7"


def test_upstream_hang_times_out_with_504(served: tuple[str, FakeUpstream]) -> None:
    from portico.testing import Behaviour

    url, up = served
    up.push(Behaviour(kind="hang"))
    _assert_error(_post(url, {"model": "gpt", "messages": MSG}), 504, "timed out")


def test_connection_refused_is_503() -> None:
    import socket

    from portico.server import create_app
    from portico.testing import make_settings, serve_in_thread

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings([{"name": "gpt", "provider": "openai", "base_url": f"http://127.0.0.1:{port}/v1"}])
    with serve_in_thread(create_app(settings)) as url:
        _assert_error(_post(url, {"model": "gpt", "messages": MSG}), 503, "refused")
