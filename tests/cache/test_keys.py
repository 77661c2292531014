"""Exact keys cover every field that changes the answer; semantic scopes cover all but the turn."""

from __future__ import annotations

from typing import Any

import pytest

from portico.cache import exact_key, partition_of, semantic_scope
from portico.pipeline import Caller
from portico.types import ChatMessage, ChatRequest

BASE: dict[str, Any] = {
    "model": "m1",
    "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    "temperature": 0,
}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}

CHANGES: list[tuple[str, Any]] = [
    ("temperature", 0.5),
    ("top_p", 0.9),
    ("max_tokens", 7),
    ("max_completion_tokens", 9),
    ("stop", ["END"]),
    ("seed", 42),
    ("n", 2),
    ("tools", [TOOL]),
    ("tool_choice", "none"),
    ("response_format", {"type": "json_object"}),
    ("frequency_penalty", 0.3),  # not a declared field: unknown parameters count too
    ("presence_penalty", 0.1),
    ("logit_bias", {"50256": -100}),
    ("reasoning_effort", "high"),
]


def req(**changes: Any) -> ChatRequest:
    return ChatRequest.model_validate({**BASE, **changes})


@pytest.mark.parametrize(("field", "value"), CHANGES, ids=[c[0] for c in CHANGES])
def test_every_parameter_changes_the_exact_key_and_the_scope(field: str, value: Any) -> None:
    assert exact_key(req(**{field: value}), "m1", "t") != exact_key(req(), "m1", "t")
    assert semantic_scope(req(**{field: value}), "m1", "t") != semantic_scope(req(), "m1", "t")


def test_tool_definition_details_change_the_key() -> None:
    other = {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object", "x": 1}},
    }
    assert exact_key(req(tools=[TOOL]), "m1", "t") != exact_key(req(tools=[other]), "m1", "t")


def test_model_tenant_and_messages_change_the_key() -> None:
    base = exact_key(req(), "m1", "t")
    assert exact_key(req(), "m2", "t") != base
    assert exact_key(req(), "m1", "u") != base
    changed = req(messages=[{"role": "system", "content": "be long"}, {"role": "user", "content": "hi"}])
    assert exact_key(changed, "m1", "t") != base
    assert exact_key(req(messages=[{"role": "user", "content": "hi"}]), "m1", "t") != base


def test_routed_model_not_the_requested_alias_is_keyed() -> None:
    assert exact_key(req(model="auto"), "m1", "t") == exact_key(req(model="m1"), "m1", "t")


def test_streaming_flag_and_key_order_do_not_change_the_key() -> None:
    streamed = req(stream=True, stream_options={"include_usage": True})
    assert exact_key(streamed, "m1", "t") == exact_key(req(), "m1", "t")
    reordered = ChatRequest.model_validate(dict(reversed(list({**BASE, "seed": 1}.items()))))
    assert exact_key(reordered, "m1", "t") == exact_key(req(seed=1), "m1", "t")


def test_scope_ignores_only_the_current_turn() -> None:
    other_turn = req(messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}])
    assert semantic_scope(other_turn, "m1", "t") == semantic_scope(req(), "m1", "t")
    other_system = req(messages=[{"role": "system", "content": "be rude"}, {"role": "user", "content": "hi"}])
    assert semantic_scope(other_system, "m1", "t") != semantic_scope(req(), "m1", "t")


def test_earlier_conversation_changes_the_scope() -> None:
    def convo(person: str) -> ChatRequest:
        return ChatRequest(
            model="m1",
            temperature=0,
            messages=[
                ChatMessage(role="user", content=f"Who is {person}?"),
                ChatMessage(role="assistant", content=f"{person} is a person."),
                ChatMessage(role="user", content="How old is he?"),
            ],
        )

    assert semantic_scope(convo("Obama"), "m1", "t") != semantic_scope(convo("Biden"), "m1", "t")
    assert exact_key(convo("Obama"), "m1", "t") != exact_key(convo("Biden"), "m1", "t")


def test_partitions() -> None:
    a = Caller(key_id="k1", team_id="team-a")
    b = Caller(key_id="k2", team_id="team-a")
    assert partition_of(a, "key") != partition_of(b, "key")
    assert partition_of(a, "team") == partition_of(b, "team")
    assert partition_of(a, "global") == partition_of(Caller(key_id="zz"), "global")
    # no team: fall back to the key, never to a shared bucket
    assert partition_of(Caller(key_id="k1"), "team") != partition_of(Caller(key_id="k2"), "team")


def test_turns_with_images_have_no_semantic_text() -> None:
    from portico.cache.keys import current_turn

    image = ChatRequest.model_validate({**BASE, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]}]})  # fmt: skip
    assert current_turn(image) is None
    text_parts = ChatRequest.model_validate(
        {**BASE, "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi  there"}]}]}
    )
    assert current_turn(text_parts) == "Hi there"
    assert (
        current_turn(req(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])) is None
    )
