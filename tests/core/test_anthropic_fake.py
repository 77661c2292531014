"""The official anthropic client against the fake upstream: proves the fake speaks the real wire
format, so the Anthropic provider's tests against it mean something."""

from __future__ import annotations

import anthropic

from portico.testing import FakeUpstream


def test_anthropic_client_accepts_the_fake(thread_upstream: FakeUpstream) -> None:
    client = anthropic.Anthropic(base_url=thread_upstream.url, api_key="k", max_retries=0)
    msg = client.messages.create(model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].type == "text" and msg.content[0].text == "Paris is the capital of France."
    assert msg.usage.output_tokens == 6
    with client.messages.stream(model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == "Paris is the capital of France." and final.stop_reason == "end_turn"
