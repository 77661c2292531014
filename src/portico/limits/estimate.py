"""Token estimates used for reservations before the real usage is known."""

from __future__ import annotations

import math

from portico.types import ChatRequest

PER_MESSAGE = 4  # role and separators in the chat template


def prompt_tokens(req: ChatRequest, chars_per_token: float) -> int:
    """A deliberately generous estimate (default 3 chars/token; English averages ~4)."""
    chars = sum(len(m.text()) for m in req.messages)
    return math.ceil(chars / chars_per_token) + PER_MESSAGE * len(req.messages) + 3


def completion_tokens(text_chars: int) -> int:
    """Completion tokens of a stream cut before its usage chunk (4 chars/token)."""
    return math.ceil(text_chars / 4)
