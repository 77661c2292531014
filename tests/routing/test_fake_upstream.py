"""Routing policies against real HTTP upstreams (FakeUpstream on loopback) as fast and strong models."""

from collections.abc import AsyncIterator

import pytest

from portico.config import ModelSettings, Price
from portico.pipeline import Pipeline, Reply, RequestContext
from portico.providers.openai import OpenAIProvider
from portico.routing.settings import RoutingSettings
from portico.routing.stage import ROUTE_HEADER, RoutingStage
from portico.testing import Behaviour, FakeUpstream
from portico.types import ChatRequest, ChatResponse, Usage

from .conftest import ctx_for

PRICES = {"fast": Price(input_per_mtok=1, output_per_mtok=1), "strong": Price(input_per_mtok=10, output_per_mtok=30)}


class Upstreams:
    def __init__(self, fast: FakeUpstream, strong: FakeUpstream) -> None:
        self.fast, self.strong = fast, strong
        self.providers = {
            name: OpenAIProvider(ModelSettings(name=name, provider="openai", base_url=up.base_url))
            for name, up in (("fast", fast), ("strong", strong))
        }

    async def call(self, ctx: RequestContext, model: str, req: ChatRequest) -> ChatResponse:
        return await self.providers[model].chat(req, model)

    async def terminal(self, ctx: RequestContext) -> Reply:
        return await self.providers[ctx.model].chat(ctx.request, ctx.model)


def cost_of(model: str, usage: Usage) -> float:
    return PRICES[model].cost(usage.prompt_tokens, usage.completion_tokens)


@pytest.fixture
async def ups() -> AsyncIterator[Upstreams]:
    async with FakeUpstream(reply="fast says hi") as fast, FakeUpstream(reply="strong says #### 42") as strong:
        u = Upstreams(fast, strong)
        yield u
        for p in u.providers.values():
            await p.aclose()


async def test_cascade_escalates_over_http_and_charges_both_calls(ups: Upstreams) -> None:
    settings = RoutingSettings.model_validate(
        {
            "routes": [
                {
                    "name": "careful",
                    "policy": "cascade",
                    "fast": "fast",
                    "strong": "strong",
                    "check": {"regex": r"####\s*\d+"},
                }
            ]
        }
    )
    ups.fast.push(Behaviour(reply="I am not sure", usage=(10, 4)))
    ups.strong.push(Behaviour(reply="so #### 42", usage=(10, 6)))
    stage = RoutingStage(settings, call_model=ups.call, cost_of=cost_of)
    ctx = ctx_for("what is 6*7?", model="careful")
    out = await Pipeline([stage], ups.terminal)(ctx)
    assert isinstance(out, ChatResponse) and out.text == "so #### 42"
    assert len(ups.fast.requests) == 1 and len(ups.strong.requests) == 1
    calls = ctx.state["routing"]["calls"]
    assert [c["model"] for c in calls] == ["fast", "strong"]
    assert ctx.cost_usd == pytest.approx((10 + 4) / 1e6 + (10 * 10 + 6 * 30) / 1e6)
    assert ctx.response_headers[ROUTE_HEADER].startswith("strong; cascade fast rejected (regex no match)")


async def test_complexity_route_sends_the_request_to_the_chosen_upstream(ups: Upstreams) -> None:
    settings = RoutingSettings.model_validate(
        {
            "routes": [
                {
                    "name": "auto",
                    "policy": "complexity",
                    "fast": "fast",
                    "strong": "strong",
                    "threshold": {"score": 0.0},
                }
            ]
        }  # everything above 0 -> strong
    )
    ctx = ctx_for("Prove that there are infinitely many primes.", model="auto")
    out = await Pipeline([RoutingStage(settings)], ups.terminal)(ctx)
    assert isinstance(out, ChatResponse) and out.text == "strong says #### 42"
    assert len(ups.strong.requests) == 1 and not ups.fast.requests
    assert ctx.model == "strong"


async def test_ensemble_over_http_majority(ups: Upstreams) -> None:
    settings = RoutingSettings.model_validate(
        {"routes": [{"name": "vote", "policy": "ensemble", "models": ["fast", "strong"], "samples": 2}]}
    )
    ups.fast.push(Behaviour(reply="#### 41"), Behaviour(reply="#### 42"))
    ctx = ctx_for("what is 6*7?", model="vote")
    out = await RoutingStage(settings, call_model=ups.call, cost_of=cost_of)(ctx, ups.terminal)
    assert isinstance(out, ChatResponse) and out.text.endswith("#### 42")
    assert ctx.state["routing"]["agreement"] == pytest.approx(3 / 4)
    assert len(ups.fast.requests) == 2 and len(ups.strong.requests) == 2
