"""Builds one Provider per configured deployment."""

from __future__ import annotations

from portico.model_settings import ModelSettings
from portico.providers.anthropic import AnthropicProvider
from portico.providers.base import Provider
from portico.providers.echo import EchoProvider
from portico.providers.local import LlamaCppProvider
from portico.providers.openai import OpenAIProvider


def build_provider(settings: ModelSettings) -> Provider:
    if settings.provider == "openai":
        return OpenAIProvider(settings)
    if settings.provider == "anthropic":
        return AnthropicProvider(settings)
    if settings.provider == "local":
        return LlamaCppProvider(settings)
    return EchoProvider()
