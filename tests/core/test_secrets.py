"""Secrets never reach logs, error bodies or model listings."""

from __future__ import annotations

import logging

import httpx
import pytest

from portico.observability.logging import SecretScrubber
from portico.testing import Behaviour, FakeUpstream

SECRETS = ["sk-upstream-secret-1", "sk-ant-secret-2"]


def test_scrubber_hides_known_secrets_and_bearer_tokens() -> None:
    s = SecretScrubber(["sk-abc-123456"])
    assert s.scrub("key sk-abc-123456 used") == "key *** used"
    assert s.scrub("Authorization: Bearer abcdefghijkl") == "Authorization: Bearer ***"


def test_no_secret_in_errors_or_logs(served: tuple[str, FakeUpstream], caplog: pytest.LogCaptureFixture) -> None:
    url, up = served
    caplog.set_level(logging.DEBUG)
    bodies = []
    for behaviour in [
        Behaviour(kind="status", status=401, message="bad key"),
        Behaviour(kind="reset"),
        Behaviour(kind="malformed"),
        Behaviour(kind="status", status=500),
    ]:
        for model in ("gpt", "claude"):
            up.push(behaviour)
            resp = httpx.post(
                url + "/v1/chat/completions",
                timeout=10,
                json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
            )
            assert resp.status_code >= 400
            bodies.append(resp.text + str(resp.headers))
    bodies.append(httpx.get(url + "/v1/models").text)
    bodies.append(httpx.get(url + "/metrics").text)
    haystack = "\n".join(bodies) + caplog.text
    for secret in SECRETS:
        assert secret not in haystack
