"""Providers: one module per wire protocol behind the narrow ``Provider`` protocol."""

from portico.providers.anthropic import AnthropicProvider
from portico.providers.base import Provider, ReadinessProbe
from portico.providers.echo import EchoProvider
from portico.providers.local import LlamaCppProvider
from portico.providers.openai import OpenAIProvider
from portico.providers.registry import build_provider

__all__ = [
    "AnthropicProvider",
    "EchoProvider",
    "LlamaCppProvider",
    "OpenAIProvider",
    "Provider",
    "ReadinessProbe",
    "build_provider",
]
