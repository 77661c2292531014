"""``semantic.mode: answer_groups``: the group model, its self-calibration and the stage around it
(real stores, real fitting; synthetic questions on the bag-of-words embedder)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from portico.cache import CacheSettings, CacheStage, MemoryVectorStore, SemanticEntry
from portico.cache.answer_groups import answer_group, calibrate, fit_group_model
from portico.cache.factory import build_semantic
from portico.cache.keys import semantic_scope
from portico.cache.protocols import Candidate, Vector
from portico.cache.settings import AnswerGroupSettings
from portico.errors import ConfigError
from portico.pipeline import Pipeline, Reply, RequestContext
from portico.types import ChatResponse, Choice, ResponseMessage, ToolCall, ToolCallFunction

from .conftest import Backends, BagOfWordsEmbedder, chat, context

FILLER = ["how", "do", "i", "my", "please", "can", "you", "help", "me", "want", "to", "need", "the", "a"]
TOPICS = {
    "password": ["reset", "password", "login", "forgot", "locked"],
    "closing": ["close", "delete", "account", "cancel", "terminate"],
}
ANSWERS = {"password": "Use the reset link on the login page.", "closing": "Write to support to close it."}
SCOPE = semantic_scope(chat("any question"), "m1", "key:k1")  # the one scope these tests write
GROUPS = AnswerGroupSettings(min_entries=20, min_group_entries=5, max_wrong_rate=0.05)


def questions(topic: str, n: int, rng: random.Random) -> list[str]:
    """``n`` distinct questions: two or three of the topic's words among filler words."""
    seen: set[str] = set()
    while len(seen) < n:
        words = rng.sample(TOPICS[topic], rng.randint(2, 3)) + rng.sample(FILLER, rng.randint(3, 6))
        rng.shuffle(words)
        seen.add(" ".join(words))
    return sorted(seen)


def answer_of(text: str) -> str:
    """The FAQ's upstream: one answer per topic, by word votes (a question of neither gets its own)."""
    votes = {topic: sum(w in words for w in text.split()) for topic, words in TOPICS.items()}
    best = max(votes, key=lambda t: votes[t])
    return ANSWERS[best] if votes[best] else "Something else: " + text


async def upstream(ctx: RequestContext) -> Reply:
    return ChatResponse(
        model=ctx.model,
        choices=[
            Choice(message=ResponseMessage(content=answer_of(ctx.request.last_user_text())), finish_reason="stop")
        ],
    )


def faq_stage(backends: Backends, groups: AnswerGroupSettings = GROUPS) -> CacheStage:
    semantic = {"verifier": False, "threshold": 0.99, "min_similarity": 0.5, "mode": "answer_groups"}
    settings = CacheSettings.model_validate(
        {"enabled": True, "single_flight": False, "semantic": {**semantic, "answer_groups": groups.model_dump()}}
    )
    return CacheStage(settings, backends.exact, build_semantic(settings, backends.vectors, BagOfWordsEmbedder()))


async def ask(stage: CacheStage, text: str, headers: dict[str, str] | None = None) -> tuple[str, RequestContext]:
    ctx = context(chat(text), headers=headers)
    reply = await Pipeline([stage], upstream)(ctx)
    assert isinstance(reply, ChatResponse)
    return reply.text, ctx


async def warmed(backends: Backends, per_topic: int = 40) -> CacheStage:
    stage = faq_stage(backends)
    rng = random.Random(7)
    for topic in TOPICS:
        for text in questions(topic, per_topic, rng):
            await ask(stage, text, {"x-portico-cache": "no-cache"})  # stored without a lookup
    assert stage.semantic is not None and stage.semantic.groups is not None
    await stage.semantic.groups.refit_all()
    return stage


async def test_a_question_near_one_group_gets_its_answer(backends: Backends) -> None:
    stage = await warmed(backends)
    text, ctx = await ask(stage, "please help i forgot my password and i am locked")
    assert ctx.cache_status.startswith("semantic")
    assert text == ANSWERS["password"]
    assert ctx.state["cache"]["score"] >= 0.5  # the group's probability
    text, ctx = await ask(stage, "i want to cancel and delete my account please")
    assert ctx.cache_status.startswith("semantic") and text == ANSWERS["closing"]


async def test_an_ambiguous_question_between_groups_is_a_miss(backends: Backends) -> None:
    stage = await warmed(backends)
    text, ctx = await ask(stage, "reset account")  # one word of each group
    assert ctx.cache_status == "miss"
    assert ctx.state["cache"]["veto"] in {"answer_group", "group_support"}
    assert text == ANSWERS["password"]  # from upstream (its tie goes to the first topic)


async def test_a_question_far_from_every_group_is_a_miss(backends: Backends) -> None:
    stage = await warmed(backends)
    _, ctx = await ask(stage, "what is the weather in paris tomorrow")
    assert ctx.cache_status == "miss"


async def test_pairwise_judge_decides_until_a_scope_is_large_enough(backends: Backends) -> None:
    stage = faq_stage(backends)
    await ask(stage, "reset my password")
    assert stage.semantic is not None and stage.semantic.groups is not None
    assert stage.semantic.groups.models() == []
    _, ctx = await ask(stage, "my password reset")  # same words: the pairwise judge serves it
    assert ctx.cache_status.startswith("semantic")


async def test_another_replica_fits_the_same_groups(backends: Backends) -> None:
    await warmed(backends)
    exact, vectors = backends.make_replica()
    semantic = {"verifier": False, "mode": "answer_groups", "answer_groups": GROUPS.model_dump()}
    settings = CacheSettings.model_validate({"enabled": True, "single_flight": False, "semantic": semantic})
    replica = CacheStage(settings, exact, build_semantic(settings, vectors, BagOfWordsEmbedder()))
    assert replica.semantic is not None and replica.semantic.groups is not None
    model = await replica.semantic.groups.refit(SCOPE)
    assert model is not None and len(model.groups) == 2 and model.entries == 80
    text, ctx = await ask(replica, "forgot password locked out help")
    assert ctx.cache_status.startswith("semantic") and text == ANSWERS["password"]


async def test_background_refit_follows_growth(backends: Backends) -> None:
    stage = faq_stage(backends, GROUPS.model_copy(update={"refit_growth": 0.5}))
    assert stage.semantic is not None and stage.semantic.groups is not None
    tier, rng = stage.semantic.groups, random.Random(3)
    closing = questions("closing", 22, rng)
    for text in questions("password", 12, rng) + closing[:12]:
        await ask(stage, text, {"x-portico-cache": "no-cache"})
        await tier.settle()
    (model,) = tier.models()
    assert model.entries == 20  # fitted when the scope reached min_entries, not since (+4 < 50%)
    for text in closing[12:]:
        await ask(stage, text, {"x-portico-cache": "no-cache"})
        await tier.settle()
    (model,) = tier.models()
    assert model.entries == 30  # grown by 50%: refitted once, in the background


async def test_evicted_answer_is_served_from_another_question_of_the_group(backends: Backends) -> None:
    stage = await warmed(backends)
    query = "please help i forgot my password and i am locked"
    assert stage.semantic is not None
    found = await stage.semantic.lookup(SCOPE, query)
    assert found.hit is not None and found.alternates
    await backends.exact.delete(found.hit.entry_key)
    text, again = await ask(stage, query)
    assert again.cache_status.startswith("semantic") and text == ANSWERS["password"]


def test_calibration_holds_its_target_on_held_out_questions() -> None:
    """Overlapping clusters (~80% separable): the served held-out share stays under the target."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(6, 24))

    def sample(n: int) -> tuple[Vector, list[str]]:
        labels = rng.integers(0, 6, size=n)
        x = centres[labels] + rng.normal(scale=2.0, size=(n, 24))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x.astype(np.float32), [f"g{i}" for i in labels]

    settings = AnswerGroupSettings(max_wrong_rate=0.02, min_similarity=0.0, regularization=10)
    stored, groups = sample(3000)
    model = fit_group_model(stored, groups, settings)
    assert model is not None and 0.05 < model.held_out_coverage < 0.95
    fresh, truth = sample(6000)
    predicted = [model.predict(v) for v in fresh]
    served = [(g, t) for (g, p), t in zip(predicted, truth, strict=True) if p >= model.threshold]
    wrong = sum(g != t for g, t in served) / len(served)
    overall = sum(g != t for (g, _), t in zip(predicted, truth, strict=True)) / len(truth)
    assert overall > 0.1  # the task is hard enough that serving everything would break the target
    assert wrong <= 0.02 and len(served) >= 0.05 * len(truth)


def test_held_out_questions_of_unknown_groups_count_as_wrong() -> None:
    """One-off answers (singleton groups) cannot be predicted: serving them must be paid for."""
    rng = np.random.default_rng(1)
    centre = rng.normal(size=24)
    x = centre + rng.normal(scale=0.5, size=(400, 24))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    groups = ["faq"] * 200 + [f"one-off {i}" for i in range(200)]  # same region, half unique answers
    model = fit_group_model(x.astype(np.float32), groups, AnswerGroupSettings(min_similarity=0.0))
    assert model is not None and model.servable == frozenset({"faq"}) and len(model.groups) == 2
    assert model.held_out_coverage < 0.05  # "faq" is never trusted: half its neighbours answer otherwise


def test_calibrate_picks_the_loosest_threshold_under_the_bound() -> None:
    confidence = np.linspace(1.0, 0.0, 1000)
    correct = np.ones(1000, dtype=bool)
    correct[600:] = False  # perfect above 0.4, wrong below
    threshold = calibrate(confidence, correct, 0.01)
    assert 0.39 < threshold < 0.41
    assert calibrate(confidence[:50], correct[:50], 0.01) == float("inf")  # 50 clean ones cannot show 1%
    assert calibrate(np.array([]), np.array([], dtype=bool), 0.01) == float("inf")


def test_answer_group_ignores_whitespace_and_tool_call_ids() -> None:
    def response(text: str, call_id: str | None = None) -> ChatResponse:
        calls = None
        if call_id:
            calls = [ToolCall(id=call_id, function=ToolCallFunction(name="f", arguments='{"a": 1}'))]
        return ChatResponse(model="m", choices=[Choice(message=ResponseMessage(content=text, tool_calls=calls))])

    assert answer_group(response("Use the  reset\nlink.")) == answer_group(response("Use the reset link. "))
    assert answer_group(response("Use the reset link.")) != answer_group(response("Write to support."))
    assert answer_group(response("", "call_1")) == answer_group(response("", "call_2"))


class ForgetfulStore:
    """A VectorStore that cannot list its entries (e.g. an external vector database)."""

    async def add(self, scope: str, entry: SemanticEntry) -> None: ...

    async def search(self, scope: str, vector: Vector, k: int) -> list[Candidate]:
        return []

    async def aclose(self) -> None: ...


def test_mode_needs_a_store_that_lists_its_entries() -> None:
    settings = CacheSettings.model_validate({"semantic": {"mode": "answer_groups", "verifier": False}})
    with pytest.raises(ConfigError, match="answer_groups"):
        build_semantic(settings, ForgetfulStore(), BagOfWordsEmbedder())


def test_default_mode_is_pairwise() -> None:
    assert CacheSettings().semantic.mode == "pairwise"
    settings = CacheSettings.model_validate({"semantic": {"verifier": False}})
    semantic = build_semantic(settings, MemoryVectorStore(10), BagOfWordsEmbedder())
    assert semantic.groups is None
