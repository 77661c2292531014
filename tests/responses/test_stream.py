"""Streaming Responses: the documented event order, sequence numbers, tool-call arguments
split across chunks, usage on the final event, faults as response.failed."""

from __future__ import annotations

import json

import openai
import pytest

from portico.testing import Behaviour, FakeUpstream

from .test_sdk import WEATHER_TOOL


@pytest.fixture
def client(served: tuple[str, FakeUpstream]) -> openai.OpenAI:
    return openai.OpenAI(base_url=served[0] + "/v1", api_key="anything", max_retries=0)


TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


def _dedupe(kinds: list[str]) -> list[str]:
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_text_event_order_and_usage(client: openai.OpenAI, model: str) -> None:
    events = list(client.responses.create(model=model, input="Say hello.", stream=True))
    assert _dedupe([e.type for e in events]) == TEXT_EVENTS
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Paris is the capital of France."
    done = events[-1]
    assert done.type == "response.completed"
    assert done.response.output_text == text
    # usage on streamed responses (the upstream's final usage chunk)
    assert done.response.usage is not None and done.response.usage.input_tokens == 10
    assert done.response.usage.output_tokens == 6


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_tool_call_arguments_split_across_chunks(
    client: openai.OpenAI, served: tuple[str, FakeUpstream], model: str
) -> None:
    args = '{"city": "Paris", "unit": "celsius"}'
    served[1].push(
        Behaviour(tool_calls=[{"name": "get_weather", "arguments": args}, {"name": "get_time", "arguments": "{}"}])
    )
    events = list(client.responses.create(model=model, input="Weather?", tools=[WEATHER_TOOL], stream=True))
    kinds = _dedupe([e.type for e in events])
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert "response.output_text.delta" not in kinds
    deltas = [e for e in events if e.type == "response.function_call_arguments.delta" and e.output_index == 0]
    assert len(deltas) >= 2 and "".join(d.delta for d in deltas) == args
    dones = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert [(d.name, d.arguments) for d in dones] == [("get_weather", args), ("get_time", "{}")]
    final = events[-1].response  # type: ignore[union-attr]
    assert [(o.type, o.name) for o in final.output] == [("function_call", "get_weather"), ("function_call", "get_time")]  # type: ignore[union-attr]
    assert json.loads(final.output[0].arguments) == {"city": "Paris", "unit": "celsius"}  # type: ignore[union-attr]
    assert final.output_text == ""


def test_stream_helper_and_retrieve_after_completion(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt", input="hi") as stream:
        texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(texts) == final.output_text == "Paris is the capital of France."
    # stored before response.completed left the gateway
    assert client.responses.retrieve(final.id).output_text == final.output_text


def test_fault_after_first_byte_is_response_failed(client: openai.OpenAI, served: tuple[str, FakeUpstream]) -> None:
    served[1].push(Behaviour(kind="error_event", after_chunks=2))
    events = list(client.responses.create(model="gpt", input="hi", stream=True))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.failed"
    assert events[-1].response.status == "failed" and events[-1].response.error is not None  # type: ignore[union-attr]


def test_fault_before_first_byte_is_an_http_error(client: openai.OpenAI, served: tuple[str, FakeUpstream]) -> None:
    served[1].push(Behaviour(kind="status", status=400, message="bad thing"))
    with pytest.raises(openai.BadRequestError):
        list(client.responses.create(model="gpt", input="hi", stream=True))
