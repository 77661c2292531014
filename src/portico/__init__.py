"""Portico: an OpenAI-compatible LLM gateway with an embedded local model."""

from portico.config import Settings, load_config, settings_from_dict
from portico.errors import PorticoError
from portico.types import ChatChunk, ChatMessage, ChatRequest, ChatResponse, Usage

__version__ = "0.1.0"

__all__ = [
    "ChatChunk",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "PorticoError",
    "Settings",
    "Usage",
    "__version__",
    "load_config",
    "settings_from_dict",
]
