"""CacheStage end to end over both backends with a counting upstream (no internals patched)."""

from __future__ import annotations

import asyncio

import pytest

from portico.cache import CacheSettings, CacheStage, SemanticCache, SemanticJudge, SemanticSettings
from portico.cache.singleflight import SingleFlight
from portico.errors import CacheMiss, InvalidRequest
from portico.pipeline import ChunkStream, Next, Pipeline, Reply, RequestContext
from portico.types import ChatMessage, ChatRequest, ChatResponse, Usage

from .conftest import Backends, BagOfWordsEmbedder, CountingUpstream, chat, context, drain


def price(model: str, usage: Usage) -> float:
    return usage.prompt_tokens * 0.001 + usage.completion_tokens * 0.002


def make(backends: Backends, flights: SingleFlight | None = None, **overrides: object) -> CacheStage:
    # Plain threshold (no verifier) on a bag-of-words embedder: the stage logic, not the model.
    semantic = SemanticSettings(verifier=False, threshold=0.99, min_similarity=0.5)
    settings = CacheSettings.model_validate({"enabled": True, "semantic": semantic, **overrides})
    judge = SemanticJudge(settings.semantic)
    sem = SemanticCache(backends.vectors, BagOfWordsEmbedder(), judge)
    return CacheStage(settings, backends.exact, sem, price=price, flights=flights)


async def ask(stage: CacheStage, upstream: CountingUpstream, ctx: RequestContext) -> str:
    reply = await Pipeline([stage], upstream)(ctx)
    if isinstance(reply, ChunkStream):
        return await drain(reply, ctx)
    assert isinstance(reply, ChatResponse)
    return reply.text


async def test_exact_hit_after_miss(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()
    first = context(chat("What is the boiling point of water?"))
    assert await ask(stage, up, first) == "answer 1 to What is the boiling point of water?"
    assert first.cache_status == "miss" and first.response_headers["x-portico-cache"] == "miss"
    second = context(chat("What is the boiling point of water?"))
    assert await ask(stage, up, second) == "answer 1 to What is the boiling point of water?"
    assert second.cache_status == "exact" and second.response_headers["x-portico-cache"] == "exact"
    assert up.calls == 1
    assert second.saved_usd == pytest.approx(10 * 0.001 + 5 * 0.002)
    assert second.usage == Usage() and second.cost_usd == 0


async def test_semantic_hit_reports_similarity(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()
    await ask(stage, up, context(chat("What is the boiling point of water?")))
    ctx = context(chat("what   is the boiling point of water"))  # same words, other spacing/case
    assert await ask(stage, up, ctx) == "answer 1 to What is the boiling point of water?"
    assert ctx.cache_status == "semantic; similarity=1.00"
    assert ctx.response_headers["x-portico-cache"] == ctx.cache_status
    assert ctx.state["cache"]["nearest_similarity"] == pytest.approx(1.0, abs=1e-5)
    assert up.calls == 1


async def test_tenants_do_not_share_entries(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()
    await ask(stage, up, context(chat("hello there"), key_id="alice"))
    bob = context(chat("hello there"), key_id="bob")
    await ask(stage, up, bob)
    assert bob.cache_status == "miss" and up.calls == 2
    shared, up2 = make(backends, partition="global"), CountingUpstream()
    await ask(shared, up2, context(chat("hello global"), key_id="alice"))
    carol = context(chat("hello global"), key_id="carol")
    await ask(shared, up2, carol)
    assert carol.cache_status == "exact" and up2.calls == 1


async def test_different_sampling_parameters_miss(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()
    await ask(stage, up, context(chat("hello", max_tokens=5)))
    other = context(chat("hello", max_tokens=6))
    await ask(stage, up, other)
    assert other.cache_status == "miss" and up.calls == 2


async def test_follow_up_in_another_conversation_never_hits(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()

    def convo(person: str) -> ChatRequest:
        return ChatRequest(model="m1", temperature=0, messages=[
            ChatMessage(role="user", content=f"Who is {person}?"),
            ChatMessage(role="assistant", content=f"{person} is a politician."),
            ChatMessage(role="user", content="How old is he?"),
        ])  # fmt: skip

    await ask(stage, up, context(convo("Obama")))
    other = context(convo("Biden"))
    assert await ask(stage, up, other) == "answer 2 to How old is he?"
    assert other.cache_status == "miss"
    same = context(convo("Obama"))
    await ask(stage, up, same)
    assert same.cache_status == "exact" and up.calls == 2


async def test_unsafe_requests_bypass(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()
    for _ in range(2):
        unset = context(chat("hi", temperature=None))
        await ask(stage, up, unset)
        assert unset.cache_status == "bypass"
        several = context(chat("hi", n=2))
        await ask(stage, up, several)
        assert several.cache_status == "bypass"
    assert up.calls == 4


async def test_opt_ins_for_sampled_and_multiple_choices(backends: Backends) -> None:
    stage, up = make(backends, cache_sampled=True, cache_multiple_choices=True), CountingUpstream()
    for _ in range(2):
        await ask(stage, up, context(chat("hi", temperature=0.7, n=2)))
    assert up.calls == 1


async def test_per_model_rule_turns_caching_off(backends: Backends) -> None:
    stage, up = make(backends, models={"m1": {"enabled": False}}), CountingUpstream()
    for _ in range(2):
        ctx = context(chat("hi"))
        await ask(stage, up, ctx)
        assert ctx.cache_status == "bypass"
    assert up.calls == 2


async def test_exact_tier_rule_skips_semantic(backends: Backends) -> None:
    stage, up = make(backends, keys={"k1": {"tier": "exact"}}), CountingUpstream()
    await ask(stage, up, context(chat("What is the boiling point of water?")))
    ctx = context(chat("what is the boiling point of water"))
    await ask(stage, up, ctx)
    assert ctx.cache_status == "miss" and up.calls == 2


async def test_header_directives(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()
    await ask(stage, up, context(chat("q1"), headers={"x-portico-cache": "no-store"}))
    again = context(chat("q1"))
    await ask(stage, up, again)
    assert again.cache_status == "miss" and up.calls == 2  # no-store stored nothing
    fresh = context(chat("q1"), headers={"x-portico-cache": "no-cache"})
    assert await ask(stage, up, fresh) == "answer 3 to q1"  # no-cache skips the stored answer
    assert await ask(stage, up, context(chat("q1"))) == "answer 3 to q1"  # ... but refreshes it
    only = context(chat("q1"), headers={"x-portico-cache": "only-if-cached"})
    assert await ask(stage, up, only) == "answer 3 to q1"
    with pytest.raises(CacheMiss) as err:
        await ask(stage, up, context(chat("never asked"), headers={"x-portico-cache": "only-if-cached"}))
    assert err.value.status == 504
    with pytest.raises(InvalidRequest):
        await ask(stage, up, context(chat("q1"), headers={"x-portico-cache": "bogus"}))
    assert up.calls == 3


async def test_stream_is_stored_and_replayed(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()
    streamed = context(chat("tell me a story", stream=True))
    assert await ask(stage, up, streamed) == "answer 1 to tell me a story"
    assert streamed.cache_status == "miss"
    plain = context(chat("tell me a story"))
    assert await ask(stage, up, plain) == "answer 1 to tell me a story"
    assert plain.cache_status == "exact"
    replayed = context(chat("tell me a story", stream=True, stream_options={"include_usage": True}))
    reply = await Pipeline([stage], up)(replayed)
    assert isinstance(reply, ChunkStream)
    chunks = [c async for c in reply]
    await reply.close(replayed, None)
    assert "".join(c.text for c in chunks) == "answer 1 to tell me a story"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage == Usage.of(10, 5)
    assert replayed.cache_status == "exact" and replayed.saved_usd > 0
    assert up.calls == 1


async def test_broken_stream_is_not_stored(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream(fail_stream_after=2)
    with pytest.raises(ConnectionResetError):
        await ask(stage, up, context(chat("long answer", stream=True)))
    up.fail_stream_after = None
    again = context(chat("long answer"))
    await ask(stage, up, again)
    assert again.cache_status == "miss" and up.calls == 2


async def test_fallback_answer_from_another_model_is_not_stored(backends: Backends) -> None:
    stage = make(backends)
    up = CountingUpstream()

    async def fallback(ctx: RequestContext) -> ChatResponse:
        ctx.model = "m2"  # resilience served it from another model
        reply = await up(ctx)
        assert isinstance(reply, ChatResponse)
        return reply

    await Pipeline([stage], fallback)(context(chat("hi")))
    again = context(chat("hi"))
    await Pipeline([stage], fallback)(again)
    assert again.cache_status == "miss" and up.calls == 2


class JoinCounter(SingleFlight):
    """Signals once ``expected`` followers are waiting, so the test releases the leader then."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.followers = 0
        self.all_waiting = asyncio.Event()
        self._expected = expected

    def join(self, key: str) -> asyncio.Event | None:
        event = super().join(key)
        if event is not None:
            self.followers += 1
            if self.followers == self._expected:
                self.all_waiting.set()
        return event


@pytest.mark.parametrize("stream", [False, True])
async def test_single_flight_sends_one_call_upstream(backends: Backends, stream: bool) -> None:
    flights = JoinCounter(expected=9)
    stage = make(backends, flights=flights)
    gate = asyncio.Event()
    up = CountingUpstream()

    async def gated(ctx: RequestContext) -> ChatResponse | ChunkStream:
        await gate.wait()
        return await up(ctx)

    async def one() -> tuple[str, str]:
        ctx = context(chat("same question", stream=stream))
        reply = await Pipeline([stage], gated)(ctx)
        text = await drain(reply, ctx) if isinstance(reply, ChunkStream) else reply.text
        return text, ctx.cache_status

    tasks = [asyncio.create_task(one()) for _ in range(10)]
    await asyncio.wait_for(flights.all_waiting.wait(), 10)
    gate.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert up.calls == 1
    assert {text for text, _ in results} == {"answer 1 to same question"}
    assert sorted(status for _, status in results) == ["exact"] * 9 + ["miss"]


async def test_single_flight_leader_failure_lets_followers_call(backends: Backends) -> None:
    flights = JoinCounter(expected=2)
    stage = make(backends, flights=flights)
    gate = asyncio.Event()
    up = CountingUpstream()

    async def first_fails(ctx: RequestContext) -> ChatResponse | ChunkStream:
        if up.calls == 0 and not gate.is_set():
            await gate.wait()
            up.calls += 1
            raise ConnectionResetError("boom")
        return await up(ctx)

    async def one() -> str | BaseException:
        try:
            reply = await Pipeline([stage], first_fails)(context(chat("q")))
        except ConnectionResetError as exc:
            return exc
        assert isinstance(reply, ChatResponse)
        return reply.text

    tasks = [asyncio.create_task(one()) for _ in range(3)]
    await asyncio.wait_for(flights.all_waiting.wait(), 10)
    gate.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert sum(isinstance(r, ConnectionResetError) for r in results) == 1
    assert all(isinstance(r, str) and r.startswith("answer") for r in results if not isinstance(r, BaseException))


async def test_answer_picked_by_a_router_is_stored_but_not_a_fallback(backends: Backends) -> None:
    stage, up = make(backends), CountingUpstream()

    async def router(ctx: RequestContext, call_next: Next) -> Reply:
        ctx.state["routing"] = {"route": "auto", "model": "m-small"}
        ctx.model = "m-small"
        return await call_next(ctx)

    async def fallback(ctx: RequestContext) -> Reply:
        ctx.route_reason = "fallback from m1 after timeout"
        return await up(ctx)

    for _ in range(2):
        ctx = context(chat("routed"))
        await Pipeline([stage, router], up)(ctx)
    assert ctx.cache_status == "exact" and up.calls == 1
    for _ in range(2):
        ctx = context(chat("fell back"))
        await Pipeline([stage], fallback)(ctx)
    assert ctx.cache_status == "miss" and up.calls == 3
