"""The Responses API end to end with the official openai SDK, against a gateway in front of a
fake upstream speaking OpenAI (`gpt`) and Anthropic (`claude`) wire formats."""

from __future__ import annotations

import json

import openai
import pytest
from pydantic import BaseModel

from portico.testing import Behaviour, FakeUpstream

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


@pytest.fixture
def client(served: tuple[str, FakeUpstream]) -> openai.OpenAI:
    return openai.OpenAI(base_url=served[0] + "/v1", api_key="anything", max_retries=0)


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_create_plain(client: openai.OpenAI, model: str) -> None:
    r = client.responses.create(model=model, input="What is the capital of France?", instructions="Answer briefly.")
    assert r.status == "completed"
    assert r.output_text == "Paris is the capital of France."
    assert r.output[0].type == "message" and r.output[0].content[0].type == "output_text"
    assert r.output[0].content[0].annotations == []
    assert r.usage is not None and r.usage.input_tokens == 10 and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.instructions == "Answer briefly." and r.error is None and r.incomplete_details is None


def test_instructions_and_a_system_message_both_reach_the_model(
    client: openai.OpenAI, served: tuple[str, FakeUpstream]
) -> None:
    client.responses.create(
        model="gpt",
        instructions="Answer in French.",
        input=[
            {"role": "system", "content": "You are a geography tutor."},
            {"role": "user", "content": [{"type": "input_text", "text": "Capital of France?"}]},
        ],
    )
    messages = served[1].requests[-1].body["messages"]
    assert messages == [
        {"role": "system", "content": "Answer in French."},
        {"role": "system", "content": "You are a geography tutor."},
        {"role": "user", "content": "Capital of France?"},
    ]


class City(BaseModel):
    name: str
    country: str


def _json_answer(model: str, text: str) -> Behaviour:
    # an Anthropic backend is asked for JSON with a forced tool call (it has no response_format)
    if model == "claude":
        return Behaviour(tool_calls=[{"name": "portico_json_output", "arguments": text}])
    return Behaviour(reply=text)


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_json_schema_and_parse(client: openai.OpenAI, served: tuple[str, FakeUpstream], model: str) -> None:
    up = served[1]
    up.push(_json_answer(model, '{"name": "Paris", "country": "France"}'))
    parsed = client.responses.parse(model=model, input="A European capital.", text_format=City)
    assert parsed.output_parsed == City(name="Paris", country="France") and parsed.status == "completed"
    sent = up.requests[-1].body
    if model == "gpt":
        fmt = sent["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "City"
        assert fmt["json_schema"]["strict"] is True and "name" in fmt["json_schema"]["schema"]["properties"]
    else:
        assert sent["tool_choice"] == {"type": "tool", "name": "portico_json_output"}
        assert "country" in sent["tools"][0]["input_schema"]["properties"]

    up.push(_json_answer(model, '{"ok": true}'))
    r = client.responses.create(model=model, input="JSON please", text={"format": {"type": "json_object"}})
    assert json.loads(r.output_text) == {"ok": True}

    up.push(_json_answer(model, '{"name": "Rome", "country": "Italy"}'))
    with client.responses.stream(model=model, input="Another.", text_format=City) as stream:
        final = stream.get_final_response()
    assert final.output_parsed == City(name="Rome", country="Italy")


def test_anthropic_backend_refuses_what_it_cannot_do(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="response_format with tools"):
        client.responses.create(
            model="claude", input="x", tools=[WEATHER_TOOL], text={"format": {"type": "json_object"}}
        )
    with pytest.raises(openai.BadRequestError, match="n=1"):
        client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "x"}], n=2)


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_function_tool_round_trip(client: openai.OpenAI, served: tuple[str, FakeUpstream], model: str) -> None:
    up = served[1]
    up.push(Behaviour(tool_calls=[{"name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    r = client.responses.create(model=model, input="Weather in Paris?", tools=[WEATHER_TOOL], tool_choice="auto")
    # a reply that only calls a tool has no (empty) message item
    assert [item.type for item in r.output] == ["function_call"]
    assert r.output_text == ""
    call = r.output[0]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    r2 = client.responses.create(
        model=model,
        previous_response_id=r.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18C and sunny"}],
        tools=[WEATHER_TOOL],
    )
    assert r2.output_text == "Paris is the capital of France."
    body = up.requests[-1].body
    if model == "gpt":
        assert body["messages"][1]["tool_calls"][0]["id"] == call.call_id
        assert body["messages"][2] == {"role": "tool", "tool_call_id": call.call_id, "content": "18C and sunny"}
        assert body["tools"][0]["function"]["name"] == "get_weather"
    else:
        assert body["messages"][1]["content"][0]["type"] == "tool_use"
        assert body["messages"][2]["content"][0]["tool_use_id"] == call.call_id


def test_named_tool_choice_and_parallel_flag(client: openai.OpenAI, served: tuple[str, FakeUpstream]) -> None:
    client.responses.create(
        model="gpt",
        input="x",
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
        max_output_tokens=50,
        temperature=0.2,
        top_p=0.9,
    )
    body = served[1].requests[-1].body
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False
    assert (body["max_completion_tokens"], body["temperature"], body["top_p"]) == (50, 0.2, 0.9)


def test_previous_response_id_chain(client: openai.OpenAI, served: tuple[str, FakeUpstream]) -> None:
    r1 = client.responses.create(model="gpt", input="My name is Ada.", instructions="Be terse.")
    r2 = client.responses.create(model="gpt", input="What is my name?", previous_response_id=r1.id)
    r3 = client.responses.create(model="claude", input="And again?", previous_response_id=r2.id)
    assert r3.previous_response_id == r2.id
    messages = served[1].requests[-2].body["messages"]
    # instructions are not carried over to the next response (OpenAI's rule)
    assert messages == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Paris is the capital of France."},
        {"role": "user", "content": "What is my name?"},
    ]
    anthropic_body = served[1].requests[-1].body
    assert [m["role"] for m in anthropic_body["messages"]] == ["user", "assistant", "user", "assistant", "user"]


def test_retrieve_delete_and_input_items(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model="gpt",
        input=[
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": "three"},
        ],
        metadata={"ticket": "42"},
    )
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and got.output_text == r.output_text and got.metadata == {"ticket": "42"}
    items = list(client.responses.input_items.list(r.id, order="asc"))
    assert [i.role for i in items] == ["user", "assistant", "user"]  # type: ignore[union-attr]
    page = client.responses.input_items.list(r.id, limit=2)  # newest first by default
    assert [i.role for i in page.data] == ["user", "assistant"]  # type: ignore[union-attr]
    assert len(list(page)) == 3  # the SDK follows `after` to the next page
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError) as err:
        client.responses.create(model="gpt", input="hi", previous_response_id=r.id)
    assert err.value.body["param"] == "previous_response_id"  # type: ignore[index]


def test_store_false_is_not_kept(client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt", input="hi", store=False)
    assert r.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_max_output_tokens_incomplete(client: openai.OpenAI, served: tuple[str, FakeUpstream]) -> None:
    r = client.responses.create(model="echo", input="one two three four five six", max_output_tokens=2)
    assert r.status == "incomplete" and r.output_text == "one two"
    assert r.incomplete_details is not None and r.incomplete_details.reason == "max_output_tokens"
    kinds = [e.type for e in client.responses.create(model="echo", input="a b c", max_output_tokens=1, stream=True)]
    assert kinds[-1] == "response.incomplete"


def test_parallel_tool_calls_false_reaches_anthropic(client: openai.OpenAI, served: tuple[str, FakeUpstream]) -> None:
    client.responses.create(model="claude", input="x", tools=[WEATHER_TOOL], parallel_tool_calls=False)
    assert served[1].requests[-1].body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
