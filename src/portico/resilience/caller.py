"""The terminal stage: call the chosen model's deployment and account for usage, cost and timing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from portico.errors import ModelNotFound, PorticoError
from portico.pipeline import ChunkStream, Reply, RequestContext
from portico.providers.base import approx_tokens
from portico.resilience.deployments import Deployment
from portico.types import ChatChunk, ChatRequest, ChatResponse, Usage


class ModelCaller:
    """Calls ``ctx.model`` on one of its deployments (the first in config order)."""

    def __init__(self, deployments: dict[str, list[Deployment]]) -> None:
        self.deployments = deployments

    def pick(self, model: str) -> Deployment:
        group = self.deployments.get(model)
        if not group:
            raise ModelNotFound(f"The model '{model}' does not exist.", param="model")
        return group[0]

    async def __call__(self, ctx: RequestContext) -> Reply:
        deployment = self.pick(ctx.model)
        ctx.deployment = deployment.id
        ctx.attempts += 1
        if ctx.request.stream:
            return ChunkStream(self._stream(ctx, deployment, ctx.request))
        started = time.perf_counter()
        deployment.in_flight += 1
        try:
            response = await deployment.provider.chat(ctx.request, deployment.upstream_model)
        finally:
            deployment.in_flight -= 1
            ctx.upstream_seconds += time.perf_counter() - started
        settle(ctx, deployment, response.usage)
        return response

    async def call(self, ctx: RequestContext, model: str, req: ChatRequest) -> ChatResponse:
        """Call ``model`` with ``req`` outside the main request (cascade, ensemble, judges, repairs)."""
        deployment = self.pick(model)
        started = time.perf_counter()
        try:
            response = await deployment.provider.chat(req, deployment.upstream_model)
        finally:
            ctx.upstream_seconds += time.perf_counter() - started
        return response

    async def _stream(self, ctx: RequestContext, deployment: Deployment, req: ChatRequest) -> AsyncIterator[ChatChunk]:
        started = time.perf_counter()
        usage: Usage | None = None
        generated: list[str] = []
        deployment.in_flight += 1
        try:
            async for chunk in deployment.provider.stream(req, deployment.upstream_model):
                if ctx.first_token_seconds is None and chunk.choices:
                    ctx.first_token_seconds = time.perf_counter() - ctx.started
                if chunk.usage is not None:
                    usage = chunk.usage
                generated.append(chunk.text)
                yield chunk
        finally:
            deployment.in_flight -= 1
            ctx.upstream_seconds += time.perf_counter() - started
            if usage is None:  # cut stream or client gone: estimate what was generated
                usage = Usage.of(approx_tokens(req.prompt_text()), approx_tokens("".join(generated)))
            settle(ctx, deployment, usage)


def settle(ctx: RequestContext, deployment: Deployment, usage: Usage) -> None:
    ctx.usage = usage
    ctx.cost_usd = deployment.price.cost(usage.prompt_tokens, usage.completion_tokens)


__all__ = ["ModelCaller", "PorticoError", "settle"]
