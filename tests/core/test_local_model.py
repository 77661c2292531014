"""The embedded model (SmolLM2-135M via llama.cpp) and the local embedder, end to end."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import openai
import pytest

from portico.config import settings_from_dict
from portico.server import create_app
from portico.testing import serve_in_thread

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_url() -> Iterator[str]:
    settings = settings_from_dict({}, env={})  # the built-in default: model `local` + `local-embed`
    with serve_in_thread(create_app(settings), timeout=120) as url:
        yield url


def test_chat_and_stream_on_the_real_model(local_url: str) -> None:
    c = openai.OpenAI(base_url=local_url + "/v1", api_key="x", max_retries=0, timeout=120)
    r = c.chat.completions.create(
        model="local",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=12,
        temperature=0,
    )
    assert (r.choices[0].message.content or "").strip()
    assert r.usage is not None and 0 < r.usage.completion_tokens <= 12 and r.usage.prompt_tokens > 5
    chunks = list(
        c.chat.completions.create(
            model="local",
            messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices).strip()
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_concurrent_requests_are_all_served(local_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    c = openai.OpenAI(base_url=local_url + "/v1", api_key="x", max_retries=0, timeout=120)

    def ask(i: int) -> int:
        r = c.chat.completions.create(
            model="local", messages=[{"role": "user", "content": f"Count to {i}."}], max_tokens=4
        )
        return r.usage.completion_tokens if r.usage else 0

    with ThreadPoolExecutor(4) as pool:
        assert all(n > 0 for n in pool.map(ask, range(4)))


def test_local_rejects_n_greater_than_one(local_url: str) -> None:
    c = openai.OpenAI(base_url=local_url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="n=1"):
        c.chat.completions.create(model="local", messages=[{"role": "user", "content": "hi"}], n=2, max_tokens=2)


def test_embeddings_separate_paraphrase_from_unrelated(local_url: str) -> None:
    c = openai.OpenAI(base_url=local_url + "/v1", api_key="x", max_retries=0)
    r = c.embeddings.create(
        model="local-embed",
        input=[
            "How do I reset my password?",
            "I forgot my password, how can I change it?",
            "The weather is sunny today.",
        ],
    )
    v = np.array([d.embedding for d in r.data])
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3
    assert r.usage.prompt_tokens > 10
    ids = [m.id for m in c.models.list().data]
    assert ids == ["local", "local-embed"]
