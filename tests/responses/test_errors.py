"""What /v1/responses refuses, and how: a 400 naming the parameter, never a silent drop."""

from __future__ import annotations

import httpx
import pytest

from portico.testing import FakeUpstream


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "hi", "background": True}, "background"),
        ({"input": "hi", "prompt": {"id": "pmpt_1"}}, "prompt"),
        ({"input": "hi", "conversation": "conv_1"}, "conversation"),
        ({"input": "hi", "top_logprobs": 3}, "top_logprobs"),
        ({"input": "hi", "truncation": "auto"}, "truncation"),
        ({"input": "hi", "include": ["file_search_call.results"]}, "include"),
        ({"input": "hi", "reasoning": {"summary": "auto"}}, "reasoning.summary"),
        ({"input": "hi", "frobnicate": 1}, "frobnicate"),
        ({"input": "hi", "tools": [{"type": "web_search"}]}, "tools.type"),
        ({"input": "hi", "tool_choice": {"type": "web_search"}}, "tool_choice"),
        ({"input": "hi", "text": {"format": {"type": "json_schema"}}}, "text.format.schema"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"input": [{"type": "computer_call"}]}, "input[0]"),
        ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}, "input[0].content[0]"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]}, "input[0].content[0]"),
        ({"input": ""}, "input"),
        ({}, "input"),
    ],
)
def test_unsupported_fields_get_a_400_naming_them(
    served: tuple[str, FakeUpstream], body: dict[str, object], param: str
) -> None:
    r = httpx.post(served[0] + "/v1/responses", json={"model": "gpt", **body})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]


def test_unknown_model_and_unknown_previous(served: tuple[str, FakeUpstream]) -> None:
    r = httpx.post(served[0] + "/v1/responses", json={"model": "nope", "input": "hi"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = httpx.post(served[0] + "/v1/responses", json={"model": "gpt", "input": "hi", "previous_response_id": "resp_x"})
    assert r.status_code == 404 and r.json()["error"]["param"] == "previous_response_id"


def test_image_input_is_translated(served: tuple[str, FakeUpstream]) -> None:
    content = [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
    ]
    r = httpx.post(served[0] + "/v1/responses", json={"model": "gpt", "input": [{"role": "user", "content": content}]})
    assert r.status_code == 200, r.text
    sent = served[1].requests[-1].body["messages"][0]["content"]
    assert sent == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
    ]


def test_v1_less_alias_and_input_item_kinds(served: tuple[str, FakeUpstream]) -> None:
    items = [
        {"role": "user", "content": "Weather?"},
        {"type": "function_call", "call_id": "call_9", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_9", "output": [{"type": "input_text", "text": "sunny"}]},
    ]
    r = httpx.post(served[0] + "/responses", json={"model": "gpt", "input": items})
    assert r.status_code == 200, r.text
    listed = httpx.get(served[0] + f"/v1/responses/{r.json()['id']}/input_items", params={"order": "asc"}).json()
    assert [i["type"] for i in listed["data"]] == ["message", "function_call", "function_call_output"]
    assert all(i["id"] for i in listed["data"]) and listed["has_more"] is False
    sent = served[1].requests[-1].body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_9" and sent[2] == {
        "role": "tool",
        "tool_call_id": "call_9",
        "content": "sunny",
    }
    bad = httpx.get(served[0] + f"/v1/responses/{r.json()['id']}/input_items", params={"limit": 0})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"
