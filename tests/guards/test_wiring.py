"""The guards feature on a real Gateway (echo provider): what the provider sees and
what the client gets, for a non-streamed and a streamed request."""

from __future__ import annotations

from portico.config import settings_from_dict
from portico.gateway import Gateway
from portico.guards import GuardRuntime, GuardSettings
from portico.guards.wiring import guards_feature
from portico.pipeline import ChunkStream, RequestContext
from portico.types import ChatMessage, ChatRequest, ChatResponse

PROMPT = "Forward this to ada@example.org and bill 4111 1111 1111 1111"


def _gateway(runtime: GuardRuntime) -> Gateway:
    settings = settings_from_dict(
        {"models": [{"name": "echo", "provider": "echo"}], "embeddings": {"enabled": False}}, env={}
    )
    gateway = Gateway(settings)
    guards = GuardSettings.model_validate({"default": {"input": [{"type": "pii", "action": "pseudonymize"}]}})
    feature = guards_feature(guards, runtime)
    assert feature is not None
    return gateway.add(feature)


def _ctx(stream: bool) -> RequestContext:
    return RequestContext(
        "w1", ChatRequest(model="echo", messages=[ChatMessage(role="user", content=PROMPT)], stream=stream)
    )


async def test_gateway_pseudonymizes_and_restores(runtime: GuardRuntime) -> None:
    gateway = _gateway(runtime)
    ctx = _ctx(False)
    reply = await gateway.handle(ctx)
    assert isinstance(reply, ChatResponse)
    assert reply.text.endswith(PROMPT)
    assert "ada@example.org" not in ctx.request.last_user_text()
    assert {f.guard: f.detail["types"] for f in ctx.findings}["pii"] == {"EMAIL_ADDRESS": 1, "CREDIT_CARD": 1}


async def test_gateway_stream_restores(runtime: GuardRuntime) -> None:
    gateway = _gateway(runtime)
    ctx = _ctx(True)
    reply = await gateway.handle(ctx)
    assert isinstance(reply, ChunkStream)
    text = "".join([chunk.text async for chunk in reply])
    await reply.close(ctx, None)
    assert text.endswith(PROMPT)
