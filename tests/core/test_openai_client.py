"""The official openai client against Portico, with a fake OpenAI/Anthropic upstream behind it."""

from __future__ import annotations

import httpx
import openai
import pytest

from portico.testing import Behaviour, FakeUpstream


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="anything", max_retries=0, timeout=20)


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_chat_through_both_wire_formats(served: tuple[str, FakeUpstream], model: str) -> None:
    url, up = served
    raw = _client(url).chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}],
        max_tokens=20,
        temperature=0,
    )
    r = raw.parse()
    assert r.choices[0].message.content == "Paris is the capital of France."
    assert r.usage is not None and r.usage.prompt_tokens == 10 and r.usage.completion_tokens == 6
    assert raw.headers["x-portico-route"].startswith(model)
    assert float(raw.headers["x-portico-overhead-ms"]) >= 0
    sent = up.requests[-1]
    if model == "gpt":
        assert sent.path == "/v1/chat/completions" and sent.body["model"] == "gpt"
        assert sent.headers["Authorization"] == "Bearer sk-upstream-secret-1"
        assert float(raw.headers["x-portico-cost-usd"]) == pytest.approx((10 * 1.0 + 6 * 2.0) / 1e6)
    else:
        assert sent.path == "/v1/messages" and sent.body["model"] == "claude-3-5-haiku-latest"
        assert sent.body["system"] == "Be brief." and sent.body["max_tokens"] == 20
        assert sent.headers["x-api-key"] == "sk-ant-secret-2"


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_streaming_with_usage(served: tuple[str, FakeUpstream], model: str) -> None:
    url, _ = served
    chunks = list(
        _client(url).chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Paris is the capital of France."
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_stream_without_include_usage_has_no_usage_chunk(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    chunks = list(
        _client(url).chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert all(c.usage is None for c in chunks) and chunks[-1].choices


def test_cut_stream_ends_with_error_event_not_clean_end(served: tuple[str, FakeUpstream]) -> None:
    url, up = served
    up.push(Behaviour(kind="cut_stream", after_chunks=2))
    with httpx.stream(
        "POST",
        url + "/v1/chat/completions",
        timeout=10,
        json={"model": "gpt", "messages": [{"role": "user", "content": "hi"}], "stream": True},
    ) as resp:
        assert resp.status_code == 200
        lines = [line for line in resp.iter_lines() if line.startswith("data: ")]
    assert lines[-1] != "data: [DONE]"
    assert '"error"' in lines[-1]


def test_failure_before_first_chunk_is_a_real_http_error(served: tuple[str, FakeUpstream]) -> None:
    url, up = served
    up.push(Behaviour(kind="status", status=503))
    with pytest.raises(openai.APIStatusError) as info:
        list(
            _client(url).chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}], stream=True)
        )
    assert info.value.status_code == 502


def test_stall_mid_stream_becomes_timeout_event(served: tuple[str, FakeUpstream]) -> None:
    url, up = served
    up.push(Behaviour(kind="stall_stream", after_chunks=2))
    with pytest.raises(openai.APIError, match="stalled"):
        list(
            _client(url).chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}], stream=True)
        )


def test_tools_are_translated_for_anthropic(served: tuple[str, FakeUpstream]) -> None:
    url, up = served
    tools = [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Get weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    _client(url).chat.completions.create(
        model="claude",
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        tools=tools,
        tool_choice="required",
    )
    body = up.requests[-1].body
    assert body["tools"][0]["input_schema"]["properties"]["city"] == {"type": "string"}
    assert body["tool_choice"] == {"type": "any"}
    assert body["messages"][1]["content"][0] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "weather",
        "input": {"city": "Paris"},
    }
    assert body["messages"][2]["content"][0]["type"] == "tool_result"


def test_models_list_has_no_secrets(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    resp = httpx.get(url + "/v1/models")
    ids = [m["id"] for m in resp.json()["data"]]
    assert ids == ["gpt", "claude", "echo"]
    assert "secret" not in resp.text


def test_metrics_count_requests(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    _client(url).chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
    text = httpx.get(url + "/metrics").text
    assert 'portico_requests_total{model="gpt",status="200"} 1.0' in text
    assert 'portico_tokens_total{direction="output",model="gpt"} 6.0' in text
    assert "portico_gateway_overhead_seconds_count 1.0" in text


def test_in_flight_returns_to_zero_and_upstream_errors_are_counted(served: tuple[str, FakeUpstream]) -> None:
    url, up = served
    up.push(Behaviour(kind="status", status=503))
    with pytest.raises(openai.APIStatusError):
        _client(url).chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}])
    list(_client(url).chat.completions.create(model="gpt", messages=[{"role": "user", "content": "hi"}], stream=True))
    text = httpx.get(url + "/metrics").text
    assert "portico_requests_in_flight 0.0" in text
    assert 'portico_upstream_errors_total{kind="upstream_status_503",model="gpt"} 1.0' in text
