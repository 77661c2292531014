"""Redaction of prompt/response text kept in audit rows (only when ``storage.store_prompts``)."""

from __future__ import annotations

import re

_PATTERNS = (
    (re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}"), "[SECRET]"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "[SECRET]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._\-~+/]{8,}=*"), "Bearer [SECRET]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[EMAIL]"),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), "[CARD]"),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[SSN]"),
    (re.compile(r"(?<!\w)\+?\d[\d ().\-]{7,}\d\b"), "[PHONE]"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "[IP]"),
)


def redact(text: str, limit: int = 4000) -> str:
    """Mask secrets, e-mail addresses, card/SSN/phone numbers and IPs; cut to ``limit`` chars."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text[:limit]
