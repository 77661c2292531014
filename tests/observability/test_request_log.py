"""server.request_log: one line per request with its explanation; JSON lines with secrets scrubbed."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import orjson
import pytest

from portico.assembly import assemble
from portico.observability.logging import JsonFormatter, SecretScrubber
from portico.server import PorticoApp
from portico.testing import FakeUpstream, make_settings
from portico.testing.faults import Behaviour

MASTER = "sk-log-master-0123456789"


async def test_one_line_per_request_with_its_explanation(
    upstream: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        [{"name": "gpt", "provider": "openai", "base_url": upstream.base_url, "api_key": "sk-upstream-secret-1"}],
        auth={"master_key": MASTER},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/l.db", "wal_dir": str(tmp_path / "wal")},
        server={"request_log": True},
        guards={"default": {"input": [{"type": "pii", "action": "redact", "entities": ["EMAIL_ADDRESS"]}]}},
    )
    app = PorticoApp(assemble(settings))
    caplog.set_level(logging.INFO, logger="portico.requests")
    body = {"model": "gpt", "messages": [{"role": "user", "content": "Mail me at jane.doe@example.com please"}]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        answer = await client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {MASTER}"})
        assert answer.status_code == 200
        upstream.push(Behaviour(kind="status", status=400, message="bad thing"))
        failed = await client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {MASTER}"})
        assert failed.status_code == 400
    await app.gateway.stop()
    records = [r for r in caplog.records if r.name == "portico.requests"]
    assert len(records) == 2
    fields = records[0].portico  # type: ignore[attr-defined]
    assert fields["request_id"] == answer.headers["x-request-id"]
    assert fields["model"] == "gpt" and fields["status"] == 200 and fields["attempts"] == 1
    assert fields["route_reason"] == "direct" and fields["prompt_tokens"] > 0
    assert fields["upstream_ms"] > 0 and fields["overhead_ms"] >= 0
    assert (
        fields["guards"] and fields["guards"][0]["guard"] == "pii" and "EMAIL_ADDRESS" in fields["guards"][0]["types"]
    )
    assert records[1].portico["status"] == 400  # type: ignore[attr-defined]
    line = JsonFormatter(SecretScrubber(settings.secrets())).format(records[0])
    parsed = orjson.loads(line)
    assert parsed["logger"] == "portico.requests" and parsed["request_id"] == fields["request_id"]
    assert "jane.doe" not in line and MASTER not in line


def test_json_lines_scrub_secrets_in_every_field() -> None:
    formatter = JsonFormatter(SecretScrubber(["sk-upstream-secret-1"]))
    record = logging.LogRecord("portico", logging.WARNING, __file__, 1, "upstream said %s", ("no",), None)
    record.portico = {"detail": "key sk-upstream-secret-1 rejected", "auth": "Bearer abcdefghijklmnop"}
    line = formatter.format(record)
    parsed = orjson.loads(line)
    assert parsed["message"] == "upstream said no" and parsed["level"] == "warning"
    assert "sk-upstream-secret-1" not in line and "abcdefghijklmnop" not in line
    assert parsed["detail"] == "key *** rejected"
