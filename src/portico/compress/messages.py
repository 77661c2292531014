"""Compress the long inputs of a chat request against its question.

The question is the last user message. When that message is itself long (a document with
the question at its end), its closing units are the question: they are kept as they are
and the rest of the message is compressed against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from portico.compress.compressor import Compressor
from portico.compress.segment import split
from portico.compress.terms import estimate_tokens
from portico.types import ChatMessage

QUESTION_TOKENS = 64  # a closing paragraph up to this long is the question of a long user message


@dataclass(slots=True)
class Report:
    original_tokens: int = 0  # of the inputs that were compressed
    kept_tokens: int = 0
    inputs: int = 0
    embedded: int = 0
    sizes: list[tuple[int, int]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.kept_tokens / self.original_tokens if self.original_tokens else 1.0

    @property
    def saved_tokens(self) -> int:
        return self.original_tokens - self.kept_tokens

    def header(self) -> str:
        return f"ratio={self.ratio:.2f}; saved_tokens={self.saved_tokens}"


@dataclass(slots=True, frozen=True)
class Target:
    ratio: float
    budget_tokens: int | None
    min_tokens: int
    roles: frozenset[str]


def split_question(text: str) -> tuple[str, str]:
    """(body, question): the last paragraph of ``text`` when it is short, else its last unit."""
    stripped = text.rstrip()
    cut = stripped.rfind("\n\n")
    if cut > 0 and estimate_tokens(stripped[cut:]) <= QUESTION_TOKENS:
        return text[:cut], text[cut:].lstrip("\n")
    units = split(text)
    if not units:
        return "", text
    return text[: units[-1].start], text[units[-1].start :]


def compress_messages(
    messages: Sequence[ChatMessage], compressor: Compressor, target: Target
) -> tuple[list[ChatMessage], Report] | None:
    """The messages with long inputs compressed, or None when nothing was long enough."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    question = messages[last_user].text() if last_user >= 0 else ""
    own_tail = ""
    if last_user >= 0 and estimate_tokens(question) >= target.min_tokens:
        _, own_tail = split_question(question)
    report = Report()
    out: list[ChatMessage] = []
    for i, message in enumerate(messages):
        ask = own_tail if i == last_user and own_tail else question
        new = _message(message, ask, i == last_user and bool(own_tail), compressor, target, report)
        out.append(new)
    return (out, report) if report.inputs else None


def _message(
    message: ChatMessage, question: str, pin_tail: bool, compressor: Compressor, target: Target, report: Report
) -> ChatMessage:
    if message.role not in target.roles or message.content is None:
        return message
    if isinstance(message.content, str):
        text = _text(message.content, question, pin_tail, compressor, target, report)
        return message if text is message.content else message.model_copy(update={"content": text})
    parts: list[dict[str, Any]] = []
    changed = False
    for part in message.content:
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            text = _text(part["text"], question, pin_tail, compressor, target, report)
            if text is not part["text"]:
                part = {**part, "text": text}
                changed = True
        parts.append(part)
    return message.model_copy(update={"content": parts}) if changed else message


def _text(text: str, question: str, pin_tail: bool, compressor: Compressor, target: Target, report: Report) -> str:
    if estimate_tokens(text) < target.min_tokens:
        return text
    body, tail = split_question(text) if pin_tail else (text, "")
    result = compressor.compress(body, question, ratio=target.ratio, budget_tokens=target.budget_tokens)
    if result.kept_tokens >= result.original_tokens:
        return text
    tail_tokens = estimate_tokens(tail)
    report.inputs += 1
    report.original_tokens += result.original_tokens + tail_tokens
    report.kept_tokens += result.kept_tokens + tail_tokens
    report.embedded += result.embedded
    report.sizes.append((result.original_tokens + tail_tokens, result.kept_tokens + tail_tokens))
    if not tail:
        return result.text
    gap = body[len(body.rstrip()) :] or "\n\n"
    return result.text + gap + tail
