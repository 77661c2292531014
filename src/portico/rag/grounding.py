"""Groundedness: is each sentence of an answer supported by the retrieved text?

A sentence's claims are its content words that the question did not already contain (a
restated question is no claim). Its support is the share of those words, stemmed, found in
the best single source, with numbers and capitalised words (names, places: the words a
wrong answer swaps) counting double. A sentence whose support is below ``threshold`` is
reported as ungrounded; sentences with no new content words (e.g. "I don't know.") are
grounded by definition. The threshold is calibrated on SQuAD 2.0 (docs/rag.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from portico.rag.chunk import split_sentences
from portico.rag.text import lexical_tokens

# Calibrated on the calibration half of the SQuAD 2.0 subset (bench/rag_quality.py).
DEFAULT_THRESHOLD = 0.76
_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_WORD = re.compile(r"(?u)\b\w\w+\b|\b\d\b")
# Function words beyond bm25s' short list: they carry no claim.
_FUNCTION = frozenset(
    lexical_tokens(
        "about above after again against all also am any because been before being below between both "
        "can could did do does doing down during each few from further had has have having he her here "
        "hers him his how i its just me more most my no nor only other our out over own same she should "
        "so some than too under until up very was we were what when where which while who whom why would "
        "you your yes one many much may might must according answer based source sources document text"
    )
)


@dataclass(slots=True, frozen=True)
class SentenceSupport:
    text: str
    support: float  # in [0, 1]
    grounded: bool
    source: int | None  # index of the best supporting source, None when nothing supports it


def _weighted_terms(sentence: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for word in _WORD.findall(sentence):
        stems = lexical_tokens(word)
        if not stems or stems[0] in _FUNCTION:
            continue
        heavy = word[0].isupper() or any(ch.isdigit() for ch in word)
        weights[stems[0]] = max(weights.get(stems[0], 0.0), 2.0 if heavy else 1.0)
    return weights


class GroundednessChecker:
    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold

    def support(self, sentence: str, sources: Sequence[set[str]], question: set[str]) -> tuple[float, int | None]:
        claims = {t: w for t, w in _weighted_terms(sentence).items() if t not in question}
        total = sum(claims.values())
        if total == 0:
            return 1.0, None
        best, where = 0.0, None
        for i, tokens in enumerate(sources):
            found = sum(w for t, w in claims.items() if t in tokens) / total
            if found > best:
                best, where = found, i
        return best, where

    def check(self, answer: str, sources: Sequence[str], question: str = "") -> list[SentenceSupport]:
        """One verdict per sentence of ``answer`` (citation markers like [1] are ignored)."""
        source_tokens = [set(lexical_tokens(s)) for s in sources]
        asked = set(lexical_tokens(question))
        out = []
        for sentence in split_sentences(answer):
            plain = _CITATION.sub("", sentence).strip()
            if not plain:
                continue
            score, where = self.support(plain, source_tokens, asked)
            out.append(SentenceSupport(sentence, score, score >= self.threshold, where))
        return out
