"""The compression stage in a real gateway: header, metrics, ledger, per-model/key switches, fallback."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pytest
from openai import OpenAI

from portico.compress import HEADER, CompressionSettings
from portico.compress.stage import CompressionStage
from portico.compress.wiring import compression_feature
from portico.gateway import Gateway
from portico.pipeline import Caller, RequestContext
from portico.server import create_app
from portico.testing import make_settings, serve_in_thread
from portico.types import ChatMessage, ChatRequest, ChatResponse

from .test_compressor import filler


def install_compression(gateway: Gateway, settings: CompressionSettings | None = None) -> CompressionStage | None:
    """The compression feature added to ``gateway`` (None when its settings leave it off)."""
    feature = compression_feature(
        settings if settings is not None else gateway.settings.compression,
        price=gateway.price_of,
        registry=gateway.metrics.registry,
        embedder=gateway.embedder if gateway.settings.embeddings.enabled else None,
    )
    if feature is None:
        return None
    gateway.add(feature)
    stage = feature.stages[0]
    assert isinstance(stage, CompressionStage)
    return stage


FACT = "The lighthouse at Cape Morrow was automated in 1974 after its last keeper retired."
QUESTION = "When was the lighthouse at Cape Morrow automated?"


def document(n: int = 80) -> str:
    parts = filler(n, 11)
    parts.insert(n // 2, FACT)
    return " ".join(parts)


def price_model() -> dict[str, object]:
    return {"name": "echo", "provider": "echo", "price": {"input_per_mtok": 2.0, "output_per_mtok": 4.0}}


def test_http_request_is_compressed_and_says_so(tmp_path: Path) -> None:
    settings = make_settings(
        [price_model()],
        compression={"enabled": True, "min_tokens": 200, "ratio": 0.3},
        storage={"enabled": True, "url": f"sqlite+aiosqlite:///{tmp_path}/p.db"},
    )
    doc = document()
    with serve_in_thread(create_app(settings)) as url:
        client = OpenAI(base_url=url + "/v1", api_key="dev", max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="echo", messages=[{"role": "user", "content": f"{doc}\n\n{QUESTION}"}]
        )
        header = raw.headers[HEADER]
        answer = raw.parse().choices[0].message.content or ""
        short = client.chat.completions.with_raw_response.create(
            model="echo", messages=[{"role": "user", "content": QUESTION}]
        )
        assert HEADER not in short.headers
        metrics_text = httpx.get(url + "/metrics").text
    ratio, saved = (part.split("=")[1] for part in header.split("; "))
    assert float(ratio) < 0.4 and int(saved) > 300
    assert FACT in answer and answer.rstrip().endswith(QUESTION)  # the question itself is kept whole
    assert len(answer) < 0.45 * len(doc)
    assert 'portico_compression_saved_tokens_total{model="echo"}' in metrics_text
    assert "portico_compression_saved_usd_total" in metrics_text
    with sqlite3.connect(tmp_path / "p.db") as db:
        rows = db.execute(
            "SELECT compression_saved_tokens, compression_saved_usd FROM portico_requests ORDER BY ts"
        ).fetchall()
    assert rows[0][0] == int(saved) and rows[0][1] == pytest.approx(int(saved) * 2.0 / 1e6)
    assert rows[1] == (0, 0.0)


def ctx_for(
    text: str, model: str = "echo", key_id: str | None = None, meta: dict[str, object] | None = None
) -> RequestContext:
    req = ChatRequest(
        model=model, messages=[ChatMessage(role="system", content=text), ChatMessage(role="user", content=QUESTION)]
    )
    return RequestContext(
        request_id=uuid.uuid4().hex, request=req, caller=Caller(key_id=key_id, metadata=dict(meta or {}))
    )


def test_on_per_model_per_key_and_off_by_key_metadata() -> None:
    gateway = Gateway(make_settings([{"name": "echo", "provider": "echo"}, {"name": "other", "provider": "echo"}]))
    stage = install_compression(gateway, CompressionSettings(models=["echo"], keys=["key_a"], min_tokens=100))
    assert stage is not None
    doc = document()
    assert stage.target(ctx_for(doc)) is not None
    assert stage.target(ctx_for(doc, model="other")) is None
    assert stage.target(ctx_for(doc, model="other", key_id="key_a")) is not None
    assert stage.target(ctx_for(doc, meta={"compression": False})) is None
    own = stage.target(ctx_for(doc, model="other", meta={"compression": {"ratio": 0.2}}))
    assert own is not None and own.ratio == 0.2


def test_off_by_default() -> None:
    gateway = Gateway(make_settings())
    assert install_compression(gateway) is None and gateway.stages == ()


async def test_system_prompt_compressed_against_the_user_question() -> None:
    gateway = Gateway(make_settings())
    stage = install_compression(gateway, CompressionSettings(enabled=True, min_tokens=100, ratio=0.25))
    assert stage is not None
    ctx = ctx_for(document())
    reply = await gateway.handle(ctx)
    assert isinstance(reply, ChatResponse)
    system = ctx.request.messages[0].text()
    assert FACT in system and len(system) < 0.35 * len(document())
    assert ctx.request.messages[1].text() == QUESTION
    assert ctx.state["compression"]["saved_tokens"] > 0


class BrokenEmbed:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        raise RuntimeError("embedder crashed")


async def test_any_error_falls_back_to_the_original_request() -> None:
    gateway = Gateway(make_settings())
    stage = install_compression(gateway, CompressionSettings(enabled=True, min_tokens=100))
    assert stage is not None
    broken = BrokenEmbed()
    stage.attach_embedder(broken)
    doc = document()
    req = ChatRequest(model="echo", messages=[ChatMessage(role="user", content=f"{doc}\n\nZebra quokka?")])
    ctx = RequestContext(request_id="r1", request=req)
    reply = await gateway.handle(ctx)  # the question shares no word with the text: the embedder is asked
    assert broken.calls == 1
    assert isinstance(reply, ChatResponse) and reply.text == f"{doc}\n\nZebra quokka?"
    assert HEADER not in ctx.response_headers and "compression" not in ctx.state
    failed = gateway.metrics.registry.get_sample_value("portico_compression_requests_total", {"outcome": "failed"})
    assert failed == 1.0
