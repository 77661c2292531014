"""Routes through a real Gateway (resilient call path) with FakeUpstreams as fast and strong models."""

import pytest

from portico.config import settings_from_dict
from portico.errors import ConfigError
from portico.feature import Feature
from portico.gateway import Gateway
from portico.routing.settings import RoutingSettings
from portico.routing.stage import ROUTE_HEADER
from portico.routing.wiring import routing_feature
from portico.testing import Behaviour, FakeUpstream
from portico.types import ChatResponse

from .conftest import ctx_for


def _gateway(fast: FakeUpstream, strong: FakeUpstream) -> Gateway:
    settings = settings_from_dict(
        {
            "models": [
                {
                    "name": "fast",
                    "provider": "openai",
                    "base_url": fast.base_url,
                    "price": {"input_per_mtok": 1, "output_per_mtok": 1},
                },
                {
                    "name": "strong",
                    "provider": "openai",
                    "base_url": strong.base_url,
                    "price": {"input_per_mtok": 10, "output_per_mtok": 30},
                },
            ]
        }
    )
    return Gateway(settings)


def add_routing(gw: Gateway, settings: RoutingSettings) -> Feature | None:
    feature = routing_feature(
        settings, models=gw.deployments, call_model=gw.caller.call, price=gw.price_of, embedder=gw.embedder
    )
    gw.add(feature)
    return feature


ROUTES = RoutingSettings.model_validate(
    {
        "routes": [
            {
                "name": "careful",
                "policy": "cascade",
                "fast": "fast",
                "strong": "strong",
                "check": {"regex": r"####\s*\d+"},
            },
            {
                "name": "support",
                "policy": "intent",
                "fallback": "strong",
                "threshold": 0.5,
                "intents": [{"name": "greeting", "model": "fast", "examples": ["hello there", "hi, how are you?"]}],
            },
        ]
    }
)


async def test_gateway_cascade_and_intent_routes() -> None:
    async with FakeUpstream(reply="fast reply") as fast, FakeUpstream(reply="strong #### 1") as strong:
        gw = _gateway(fast, strong)
        stage = add_routing(gw, ROUTES)
        assert stage is not None and gw.knows_model("careful") and gw.knows_model("support")
        fast.push(Behaviour(reply="no idea", usage=(5, 5)))
        ctx = ctx_for("compute it", model="careful")
        out = await gw.handle(ctx)
        assert isinstance(out, ChatResponse) and out.text == "strong #### 1"
        assert [c["model"] for c in ctx.state["routing"]["calls"]] == ["fast", "strong"]
        assert ctx.cost_usd > 0
        await gw.start()  # loads the shared MiniLM embedder and attaches it to the intent route
        try:
            hello = ctx_for("hello, how are you today?", model="support")
            out = await gw.handle(hello)
            assert isinstance(out, ChatResponse) and hello.model == "fast"
            assert hello.response_headers[ROUTE_HEADER].startswith("fast; intent greeting")
            other = ctx_for("explain the tax implications of stock options", model="support")
            await gw.handle(other)
            assert other.model == "strong" and "out-of-scope" in other.route_reason
        finally:
            await gw.stop()


async def test_unknown_target_models_fail_at_start_up() -> None:
    async with FakeUpstream() as fast, FakeUpstream() as strong:
        gw = _gateway(fast, strong)
        bad = RoutingSettings.model_validate(
            {"routes": [{"name": "auto", "policy": "ensemble", "models": ["fast", "gpt-9"]}]}
        )
        with pytest.raises(ConfigError, match="gpt-9"):
            add_routing(gw, bad)
        clash = RoutingSettings.model_validate(
            {"routes": [{"name": "fast", "policy": "ensemble", "models": ["fast", "strong"]}]}
        )
        with pytest.raises(ConfigError, match="also model names"):
            add_routing(gw, clash)
        await gw.stop()
