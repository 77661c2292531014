"""The OpenAI / Anthropic endpoints, health and metrics as a feature, each with its access level."""

from __future__ import annotations

from portico.feature import Access, Feature, Route
from portico.server.chat import handle_chat
from portico.server.completions import handle_completions
from portico.server.count_tokens import handle_count_tokens
from portico.server.embeddings import handle_embeddings
from portico.server.endpoints import (
    handle_health,
    handle_metrics,
    handle_model,
    handle_models,
    handle_ready,
)
from portico.server.messages import handle_messages
from portico.server.openapi import OpenAPIRoute
from portico.types import ChatRequest, EmbeddingRequest


def endpoints_feature() -> Feature:
    return Feature(
        "endpoints",
        routes=(
            Route("POST", "/v1/chat/completions", handle_chat, Access.KEY, ChatRequest),
            Route("POST", "/v1/messages", handle_messages, Access.KEY),
            Route("POST", "/v1/messages/count_tokens", handle_count_tokens, Access.KEY),
            Route("POST", "/v1/completions", handle_completions, Access.KEY),
            Route("POST", "/v1/embeddings", handle_embeddings, Access.KEY, EmbeddingRequest),
            Route("GET", "/v1/models", handle_models, Access.KEY),
            Route("GET", "/v1/models/{model:path}", handle_model, Access.KEY),
            Route("GET", "/healthz", handle_health, Access.PUBLIC),
            Route("GET", "/readyz", handle_ready, Access.PUBLIC),
            Route("GET", "/metrics", handle_metrics, Access.METRICS),
            Route("GET", "/openapi.json", OpenAPIRoute(), Access.PUBLIC),
        ),
    )
