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
