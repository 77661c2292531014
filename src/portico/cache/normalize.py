"""Text normalisation shared by the semantic key, the vetoes and the verifier."""

from __future__ import annotations


def normalize_turn(text: str) -> str:
    """Collapse whitespace; case is left alone because entity vetoes need it (MiniLM is uncased)."""
    return " ".join(text.split())
