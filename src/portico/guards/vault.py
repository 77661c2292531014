"""Reversible pseudonymization: a per-request vault of ``<TYPE_n>`` placeholders and a
restorer that puts the original values back, also across streamed chunk boundaries."""

from __future__ import annotations

import re

# Short, bracketed, upper-case: models copy these verbatim far more reliably than hashes.
PLACEHOLDER = re.compile(r"<([A-Z][A-Z_]{1,30})_(\d{1,4})>")
_MAX_PLACEHOLDER = 38
_PREFIX = re.compile(r"<[A-Z][A-Z_0-9]*|<")


class PseudonymVault:
    """Maps each distinct (type, value) to a stable placeholder for one request."""

    def __init__(self) -> None:
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._next: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def placeholder(self, entity_type: str, value: str) -> str:
        key = (entity_type, value)
        found = self._by_value.get(key)
        if found is not None:
            return found
        n = self._next.get(entity_type, 0) + 1
        self._next[entity_type] = n
        token = f"<{entity_type}_{n}>"
        self._by_value[key] = token
        self._by_placeholder[token] = value
        return token

    def restore(self, text: str) -> str:
        """Put the original values back for every placeholder this vault issued."""
        if not self._by_placeholder or "<" not in text:
            return text
        return PLACEHOLDER.sub(lambda m: self._by_placeholder.get(m.group(0), m.group(0)), text)

    def streamer(self) -> StreamRestorer:
        return StreamRestorer(self)


class StreamRestorer:
    """Restores placeholders in a stream of text pieces. A piece that ends inside what may
    be a placeholder is held back until the next piece (at most ~38 characters), so the
    latency cost is one chunk only when a ``<`` is pending."""

    def __init__(self, vault: PseudonymVault) -> None:
        self._vault = vault
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        cut = _hold_from(text)
        self._pending = text[cut:]
        return self._vault.restore(text[:cut])

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self._vault.restore(text)


def _hold_from(text: str) -> int:
    """Index from which ``text`` might be the start of an unfinished placeholder."""
    start = text.rfind("<")
    if start == -1 or ">" in text[start:] or len(text) - start > _MAX_PLACEHOLDER:
        return len(text)
    if _PREFIX.fullmatch(text[start:]) is None:
        return len(text)
    return start
