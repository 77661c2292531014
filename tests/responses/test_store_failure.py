"""A store that fails: the client learns it (500 before the answer, response.failed in a stream)
instead of a clean answer that cannot be read back."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from portico.gateway import Gateway
from portico.responses import MemoryResponseStore, ResponsesService, StoredResponse
from portico.responses.wiring import responses_feature
from portico.server import PorticoApp
from portico.server.routes import endpoints_feature
from portico.testing import make_settings, serve_in_thread


class BrokenStore(MemoryResponseStore):
    async def save(self, record: StoredResponse) -> None:
        raise OSError("disk full")


@pytest.fixture
def client() -> Iterator[openai.OpenAI]:
    settings = make_settings([{"name": "echo", "provider": "echo"}])
    service = ResponsesService(settings.responses, BrokenStore())
    gateway = Gateway(settings).add(endpoints_feature(), responses_feature(service))
    with serve_in_thread(PorticoApp(gateway)) as url:
        yield openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)


def test_unstored_answer_is_a_500_with_the_request_id(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError, match="request id"):
        client.responses.create(model="echo", input="hello there")
    assert client.responses.create(model="echo", input="hello", store=False).output_text == "hello"


def test_unstored_stream_ends_with_response_failed(client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="echo", input="hello there", stream=True))
    assert events[-1].type == "response.failed"
    assert "could not be stored" in events[-1].response.error.message  # type: ignore[union-attr]
