"""Small doubles for routing tests: a bag-of-words embedder and a canned model caller."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from portico.pipeline import RequestContext
from portico.types import ChatMessage, ChatRequest, ChatResponse, Choice, ResponseMessage, Usage


class WordEmbedder:
    """Deterministic unit vectors from hashed words: texts sharing words are similar."""

    dim = 64

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = out / np.clip(norms, 1e-9, None)
        return unit


def reply(
    model: str, text: str, prompt_tokens: int = 10, completion_tokens: int = 5, logprobs: object = None
) -> ChatResponse:
    return ChatResponse(
        model=model,
        choices=[Choice(message=ResponseMessage(content=text), logprobs=logprobs)],
        usage=Usage.of(prompt_tokens, completion_tokens),
    )


def ctx_for(text: str, model: str = "auto", **extra: object) -> RequestContext:
    req = ChatRequest(model=model, messages=[ChatMessage(role="user", content=text)], **extra)  # type: ignore[arg-type]
    return RequestContext(request_id="t", request=req)


@pytest.fixture
def embedder() -> WordEmbedder:
    return WordEmbedder()
