"""The content cascade: content_v4 clears confident text, content_v3 (MiniLM) rescores the
texts in its uncertain band, and the MiniLM vector is shared with the injection cascade.
Real models, no mocks."""

from __future__ import annotations

import numpy as np
import pytest

from portico.guards import GuardRuntime
from portico.guards.cascade import combine
from portico.guards.content import ContentGuard
from portico.guards.injection import InjectionGuard
from portico.guards.runtime import CONTENT_ESCALATED_STATE, ESCALATED_STATE
from portico.pipeline import RequestContext
from portico.types import ChatMessage, ChatRequest

# violence 0.42 from the fast model: above its escalation cut, below its threshold.
UNCERTAIN_VIOLENT = "I will find you and break your legs if you show up here again."
BENIGN = "Please summarise the quarterly report and list the three main risks for the board."


def _ctx() -> RequestContext:
    return RequestContext("t", ChatRequest(model="m", messages=[ChatMessage(role="user", content="x")]))


def test_shipped_content_cascade_is_consistent(runtime: GuardRuntime) -> None:
    cascade = runtime.content_cascade
    assert cascade.labels == runtime.content_model.labels == runtime.content_second_stage.labels
    assert runtime.content_second_stage.version == "content_v3"
    # A text that does not escalate keeps its fast score, which is below every cut, so
    # below every threshold: only escalated texts can be flagged.
    for j, label in enumerate(cascade.labels):
        assert cascade.escalate[j] <= cascade.thresholds[label]
    # Same view as the injection stage: that is what lets the two share one embedding.
    assert runtime.content_second_stage.view_chars == runtime.injection_second_stage.view_chars


async def test_uncertain_violent_text_escalates_and_plain_benign_does_not(runtime: GuardRuntime) -> None:
    violent_ctx, benign_ctx = _ctx(), _ctx()
    guard = ContentGuard(runtime)
    await guard.check(UNCERTAIN_VIOLENT, violent_ctx)
    benign = await guard.check(BENIGN, benign_ctx)
    assert violent_ctx.state[CONTENT_ESCALATED_STATE] == {UNCERTAIN_VIOLENT}
    assert CONTENT_ESCALATED_STATE not in benign_ctx.state
    assert benign.action.value == "allow"
    # The escalated scores are the mean of independently computed fast and MiniLM scores.
    fast = runtime.content_model.scores([UNCERTAIN_VIOLENT])[0]
    second_model = runtime.content_second_stage
    vec = runtime.embedder.embed(second_model.views([UNCERTAIN_VIOLENT]))
    second = second_model.scores([UNCERTAIN_VIOLENT], vec)[0]
    expected = np.asarray(combine("mean", fast, second))
    got = guard.scores(UNCERTAIN_VIOLENT, violent_ctx)
    assert [got[k] for k in runtime.content_cascade.labels] == pytest.approx(expected.tolist(), abs=1e-5)
    assert got["violence"] != pytest.approx(float(fast[-1]), abs=1e-3)
    assert guard.scores(BENIGN) == pytest.approx(
        dict(zip(runtime.content_model.labels, runtime.content_model.scores([BENIGN])[0].tolist(), strict=True)),
        abs=1e-6,
    )


async def test_one_embedding_per_request_for_injection_and_content(runtime: GuardRuntime) -> None:
    ctx = _ctx()
    await InjectionGuard(runtime, rules=False).check(UNCERTAIN_VIOLENT, ctx)
    await ContentGuard(runtime).check(UNCERTAIN_VIOLENT, ctx)
    assert ctx.state[ESCALATED_STATE] == {UNCERTAIN_VIOLENT}
    assert ctx.state[CONTENT_ESCALATED_STATE] == {UNCERTAIN_VIOLENT}
    assert len(ctx.state["guards.embeddings"]) == 1  # both second stages used one MiniLM pass
    assert len(ctx.state["guards.text_features"]) == 1


def test_batch_path_agrees_with_the_stage_path(runtime: GuardRuntime) -> None:
    texts = [UNCERTAIN_VIOLENT, BENIGN, "What is the capital of France?"]
    batch, escalated = runtime.content_cascade_scores(texts)
    one = np.stack([runtime.content_scores(t) for t in texts])
    assert escalated.tolist() == [True, False, False]
    assert batch == pytest.approx(one, abs=2e-3)
