"""The Responses API and forced tool calls on the embedded model (SmolLM2 via llama.cpp)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from portico.config import settings_from_dict
from portico.server import create_app
from portico.testing import serve_in_thread

from .test_sdk import WEATHER_TOOL

pytestmark = pytest.mark.slow
TIME_TOOL = {
    "type": "function",
    "name": "get_time",
    "description": "Current time in a timezone",
    "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
}


@pytest.fixture(scope="module")
def client() -> Iterator[openai.OpenAI]:
    settings = settings_from_dict({"embeddings": {"enabled": False}}, env={})  # the built-in model `local`
    with serve_in_thread(create_app(settings), timeout=120) as url:
        yield openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=120)


def test_responses_on_the_local_model(client: openai.OpenAI) -> None:
    r = client.responses.create(model="local", input="What is the capital of France?", max_output_tokens=12)
    assert r.output_text.strip() and r.usage is not None and 0 < r.usage.output_tokens <= 12
    kinds = [e.type for e in client.responses.create(model="local", input="Say hi.", max_output_tokens=6, stream=True)]
    assert kinds[0] == "response.created" and "response.output_text.delta" in kinds
    assert kinds[-1] in ("response.completed", "response.incomplete")


@pytest.mark.parametrize(
    ("tools", "choice", "name"),
    [
        ([WEATHER_TOOL], "required", "get_weather"),
        ([WEATHER_TOOL, TIME_TOOL], {"type": "function", "name": "get_time"}, "get_time"),
        ([WEATHER_TOOL, TIME_TOOL], "required", None),
    ],
)
def test_forced_tool_call_is_well_formed(
    client: openai.OpenAI, tools: list[dict[str, object]], choice: object, name: str | None
) -> None:
    r = client.responses.create(
        model="local",
        input="What's the weather in Paris?",
        tools=tools,  # type: ignore[arg-type]
        tool_choice=choice,  # type: ignore[arg-type]
        max_output_tokens=200,
        temperature=0,  # deterministic: a sampled string value can run on to the token limit
    )
    calls = [o for o in r.output if o.type == "function_call"]
    assert len(calls) == 1 and r.output_text == ""
    call = calls[0]
    assert call.name in ({name} if name else {"get_weather", "get_time"})
    args = json.loads(call.arguments)
    required = next(t for t in tools if t["name"] == call.name)["parameters"]["required"]  # type: ignore[index]
    assert isinstance(args, dict) and set(required) <= set(args)


def test_forced_tool_call_streams_and_chat_completions(client: openai.OpenAI) -> None:
    events = list(
        client.responses.create(
            model="local",
            input="Weather in Rome?",
            tools=[WEATHER_TOOL],
            tool_choice="required",
            stream=True,
            temperature=0,
        )
    )
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert len(done) == 1 and "city" in json.loads(done[0].arguments)
    chat = client.chat.completions.create(
        model="local",
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
        tools=[{"type": "function", "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"}}],  # type: ignore[list-item]
        tool_choice="required",
        max_tokens=200,
        temperature=0,
    )
    assert chat.choices[0].finish_reason == "tool_calls"
    assert chat.choices[0].message.tool_calls and chat.choices[0].message.tool_calls[0].function.name == "get_weather"


def test_tool_round_trip_history_is_understood(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model="local",
        input=[
            {"role": "user", "content": "What's the weather in Paris?"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
            {"type": "function_call_output", "call_id": "call_1", "output": "18C and sunny"},
        ],
        tools=[WEATHER_TOOL],
        max_output_tokens=30,
    )
    assert r.status in ("completed", "incomplete") and r.output_text.strip()


def test_forced_call_with_response_format_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="response_format"):
        client.responses.create(
            model="local",
            input="x",
            tools=[WEATHER_TOOL],
            tool_choice="required",
            text={"format": {"type": "json_object"}},
        )
