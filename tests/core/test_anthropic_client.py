"""The official anthropic client against Portico's /v1/messages, served by any model."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from portico.testing import Behaviour, FakeUpstream


def _client(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-anything", max_retries=0, timeout=20)


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_messages_non_streaming(served: tuple[str, FakeUpstream], model: str) -> None:
    url, up = served
    msg = _client(url).messages.create(
        model=model, max_tokens=30, system="Be brief.", messages=[{"role": "user", "content": "Capital of France?"}]
    )
    assert msg.content[0].type == "text" and msg.content[0].text == "Paris is the capital of France."
    assert msg.usage.input_tokens == 10 and msg.usage.output_tokens == 6
    assert msg.stop_reason == "end_turn" and msg.model == model
    if model == "gpt":
        sent = up.requests[-1].body
        assert sent["messages"][0] == {"role": "system", "content": "Be brief."} and sent["max_tokens"] == 30


def test_messages_streaming(served: tuple[str, FakeUpstream]) -> None:
    url, _ = served
    with _client(url).messages.stream(model="gpt", max_tokens=30, messages=[{"role": "user", "content": "hi"}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == "Paris is the capital of France."
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 6


def test_messages_tool_use_round_trip(served: tuple[str, FakeUpstream]) -> None:
    url, up = served
    _client(url).messages.create(
        model="gpt",
        max_tokens=30,
        tools=[
            {
                "name": "weather",
                "description": "Get weather",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
        tool_choice={"type": "tool", "name": "weather"},
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"city": "Paris"}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "sunny"}]},
        ],
    )
    sent = up.requests[-1].body
    assert sent["tools"][0]["function"]["parameters"]["properties"]["city"] == {"type": "string"}
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "weather"}}
    assert sent["messages"][1]["tool_calls"][0]["function"] == {"name": "weather", "arguments": '{"city":"Paris"}'}
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "tu_1", "content": "sunny"}


def test_messages_errors_are_anthropic_shaped(served: tuple[str, FakeUpstream]) -> None:
    url, up = served
    resp = httpx.post(url + "/v1/messages", json={"model": "gpt", "messages": [{"role": "user", "content": "x"}]})
    assert resp.status_code == 400
    assert resp.json()["type"] == "error" and "max_tokens" in resp.json()["error"]["message"]
    with pytest.raises(anthropic.NotFoundError):
        _client(url).messages.create(model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    up.push(Behaviour(kind="cut_stream", after_chunks=2))
    with (
        pytest.raises(anthropic.APIStatusError),
        _client(url).messages.stream(model="gpt", max_tokens=30, messages=[{"role": "user", "content": "hi"}]) as s,
    ):
        "".join(s.text_stream)
