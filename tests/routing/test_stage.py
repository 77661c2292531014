from collections.abc import Mapping

import pytest

from portico.errors import UpstreamUnavailable
from portico.pipeline import ChunkStream, Pipeline, Reply, RequestContext
from portico.routing.settings import RoutingSettings
from portico.routing.stage import ROUTE_HEADER, RoutingStage
from portico.types import ChatRequest, ChatResponse, Usage

from .conftest import WordEmbedder, ctx_for, reply

PRICES = {"small": 1.0, "big": 10.0, "judge": 2.0}


def cost_of(model: str, usage: Usage) -> float:
    return PRICES.get(model, 0.0) * usage.total_tokens / 1000


class Canned:
    """A ModelCaller double: answers per model from a table, records every call."""

    def __init__(self, answers: dict[str, list[ChatResponse] | ChatResponse | Exception]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, ChatRequest]] = []

    async def __call__(self, ctx: RequestContext, model: str, req: ChatRequest) -> ChatResponse:
        self.calls.append((model, req))
        a = self.answers[model]
        if isinstance(a, Exception):
            raise a
        if isinstance(a, list):
            return a.pop(0)
        return a


async def terminal(ctx: RequestContext) -> Reply:
    return reply(ctx.model, f"served by {ctx.model}")


def _settings(*routes: Mapping[str, object]) -> RoutingSettings:
    return RoutingSettings.model_validate({"routes": list(routes)})


async def test_single_model_policy_sets_model_reason_and_header() -> None:
    stage = RoutingStage(
        _settings(
            {
                "name": "auto",
                "policy": "complexity",
                "fast": "small",
                "strong": "big",
                "threshold": {"strong_share": 0.5},
            }
        ),
    )
    ctx = ctx_for("What is 2+2?")
    out = await Pipeline([stage], terminal)(ctx)
    assert isinstance(out, ChatResponse)
    assert ctx.model in ("small", "big") and out.text == f"served by {ctx.model}"
    assert ctx.route_reason.startswith("complexity score=")
    assert ctx.response_headers[ROUTE_HEADER].startswith(ctx.model + "; complexity")
    assert ctx.state["routing"]["decision_ms"] >= 0


async def test_unrouted_models_pass_through(embedder: WordEmbedder) -> None:
    stage = RoutingStage(_settings({"name": "auto", "policy": "ensemble", "models": ["a", "b"]}), call_model=Canned({}))
    ctx = ctx_for("hi", model="small")
    await stage(ctx, terminal)
    assert ctx.model == "small" and ROUTE_HEADER not in ctx.response_headers


CASCADE = {
    "name": "careful",
    "policy": "cascade",
    "fast": "small",
    "strong": "big",
    "check": {"regex": r"####\s*\d+", "min_mean_logprob": -1.0},
}


async def test_cascade_accepts_a_confident_fast_answer() -> None:
    lp = {"content": [{"token": "x", "logprob": -0.1}, {"token": "y", "logprob": -0.3}]}
    caller = Canned({"small": reply("small", "so #### 42", logprobs=lp), "big": reply("big", "#### 42")})
    stage = RoutingStage(_settings(CASCADE), call_model=caller, cost_of=cost_of)
    ctx = ctx_for("how many?", model="careful")
    out = await stage(ctx, terminal)
    assert isinstance(out, ChatResponse) and out.model == "small"
    assert [m for m, _ in caller.calls] == ["small"]
    assert caller.calls[0][1].model_extra == {"logprobs": True}
    assert ctx.model == "small" and "accepted" in ctx.route_reason
    assert ctx.state["routing"]["escalated"] is False
    assert ctx.cost_usd == pytest.approx(15 / 1000)


async def test_cascade_escalates_and_records_both_calls() -> None:
    lp = {"content": [{"token": "x", "logprob": -2.5}]}
    caller = Canned({"small": reply("small", "#### 7", logprobs=lp), "big": reply("big", "#### 8", 20, 30)})
    stage = RoutingStage(_settings(CASCADE), call_model=caller, cost_of=cost_of)
    ctx = ctx_for("how many?", model="careful")
    out = await stage(ctx, terminal)
    assert isinstance(out, ChatResponse) and out.text == "#### 8"
    routing = ctx.state["routing"]
    assert routing["escalated"] is True and "logprob -2.50<-1.00" in routing["check"]
    assert [c["model"] for c in routing["calls"]] == ["small", "big"]
    assert routing["cost_usd"] == pytest.approx(15 / 1000 + 500 / 1000)
    assert ctx.cost_usd == routing["cost_usd"]
    assert ctx.usage is not None and ctx.usage.total_tokens == 65
    assert ctx.response_headers[ROUTE_HEADER].startswith("big; cascade small rejected")


async def test_cascade_json_schema_and_self_check() -> None:
    route = {
        "name": "j",
        "policy": "cascade",
        "fast": "small",
        "strong": "big",
        "check": {"json_schema": {"type": "object", "required": ["a"]}, "self_check": True},
    }
    caller = Canned({"small": [reply("small", '{"a": 1}'), reply("small", "NO")], "big": reply("big", '{"a": 2}')})
    ctx = ctx_for("give json", model="j")
    out = await RoutingStage(_settings(route), call_model=caller)(ctx, terminal)
    assert isinstance(out, ChatResponse) and out.text == '{"a": 2}'
    assert [m for m, _ in caller.calls] == ["small", "small", "big"]
    assert ctx.state["routing"]["check"] == "self-check NO"
    bad = Canned({"small": reply("small", "not json"), "big": reply("big", '{"a": 3}')})
    ctx2 = ctx_for("give json", model="j")
    await RoutingStage(_settings(route), call_model=bad)(ctx2, terminal)
    assert ctx2.state["routing"]["check"].startswith("json_schema")


async def test_ensemble_majority_vote_reports_agreement() -> None:
    route = {"name": "vote", "policy": "ensemble", "models": ["a", "b", "c"]}
    caller = Canned(
        {
            "a": reply("a", "The answer is 12."),
            "b": reply("b", "Let me think... so the answer is 12"),
            "c": reply("c", "The answer is 13."),
        }
    )
    ctx = ctx_for("6+6?", model="vote")
    out = await RoutingStage(_settings(route), call_model=caller)(ctx, terminal)
    assert isinstance(out, ChatResponse) and out.model == "a"
    assert ctx.state["routing"]["agreement"] == pytest.approx(2 / 3)
    assert ctx.response_headers["x-portico-agreement"] == "0.67"
    assert len(ctx.state["routing"]["calls"]) == 3


async def test_ensemble_judge_and_partial_failure() -> None:
    route = {"name": "best", "policy": "ensemble", "models": ["a", "b", "c"], "aggregate": "judge", "judge": "judge"}
    caller = Canned(
        {
            "a": reply("a", "short"),
            "b": UpstreamUnavailable("down"),
            "c": reply("c", "a long careful answer"),
            "judge": reply("judge", "2"),
        }
    )
    ctx = ctx_for("explain", model="best")
    out = await RoutingStage(_settings(route), call_model=caller, cost_of=cost_of)(ctx, terminal)
    assert isinstance(out, ChatResponse) and out.model == "c"
    r = ctx.state["routing"]
    assert r["failed"] == 1 and r["answers"] == 2
    assert [c["role"] for c in r["calls"]] == ["member", "member", "judge"]


async def test_ensemble_all_failing_raises_the_upstream_error() -> None:
    route = {"name": "vote", "policy": "ensemble", "models": ["a", "b"]}
    caller = Canned({"a": UpstreamUnavailable("down"), "b": UpstreamUnavailable("down")})
    with pytest.raises(UpstreamUnavailable):
        await RoutingStage(_settings(route), call_model=caller)(ctx_for("x", model="vote"), terminal)


async def test_samples_of_one_model_get_a_temperature() -> None:
    route = {"name": "self", "policy": "ensemble", "models": ["a"], "samples": 3}
    caller = Canned({"a": [reply("a", "#### 1"), reply("a", "#### 1"), reply("a", "#### 2")]})
    ctx = ctx_for("x", model="self")
    await RoutingStage(_settings(route), call_model=caller)(ctx, terminal)
    assert all(req.temperature == 0.7 for _, req in caller.calls)
    assert ctx.state["routing"]["agreement"] == pytest.approx(2 / 3)


async def test_streamed_request_gets_the_final_answer_as_chunks() -> None:
    route = {"name": "vote", "policy": "ensemble", "models": ["a", "b"]}
    caller = Canned({"a": reply("a", "yes"), "b": reply("b", "yes")})
    ctx = ctx_for("x", model="vote", stream=True, stream_options={"include_usage": True})
    out = await RoutingStage(_settings(route), call_model=caller)(ctx, terminal)
    assert isinstance(out, ChunkStream)
    chunks = [c async for c in out]
    assert "".join(c.text for c in chunks) == "yes"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 15
    assert all(not req.stream for _, req in caller.calls)


def test_multi_call_routes_need_a_caller() -> None:
    from portico.errors import ConfigError

    with pytest.raises(ConfigError, match="needs a ModelCaller"):
        RoutingStage(_settings({"name": "v", "policy": "ensemble", "models": ["a", "b"]}))
