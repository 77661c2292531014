"""Okapi BM25 of each unit against the question, the units themselves being the corpus.

Words are counted raw (a C-speed Counter per unit) and only the text's distinct words are
stemmed, once: stemming every word occurrence was half the time of a compression.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from portico.compress.terms import STOP, stem, words

K1 = 1.2
B = 0.75


@dataclass(slots=True, frozen=True)
class Lexical:
    scores: list[float]  # one per unit; 0 for a unit sharing no word with the question
    found: int  # distinct question terms present anywhere in the text


def bm25_scores(units: Sequence[Sequence[str]], question: str) -> Lexical:
    """``units`` are the lower-cased pieces of each unit (``terms.pieces``); punctuation among
    them only lengthens a unit, as it lengthens its token count."""
    query = Counter(stem(w) for w in words(question) if w not in STOP)
    n = len(units)
    if n == 0 or not query:
        return Lexical([0.0] * n, 0)
    counts = [Counter(u) for u in units]
    vocab: set[str] = set()
    for c in counts:
        vocab.update(c)
    # raw word -> the question term it stems to; a stem keeps a word's first two letters
    # (or is the word), so only words opening like a question term are stemmed at all
    heads = {t[:2] for t in query}
    match = {w: s for w in vocab if w[:2] in heads and w not in STOP for s in (stem(w),) if s in query}
    lengths = [c.total() for c in counts]
    avg = (sum(lengths) / n) or 1.0
    tf: list[Counter[str]] = []
    df: Counter[str] = Counter()
    for c in counts:
        hits: Counter[str] = Counter()
        for w in c.keys() & match.keys():
            hits[match[w]] += c[w]
        tf.append(hits)
        df.update(hits.keys())
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in df}
    scores: list[float] = []
    for hits, length in zip(tf, lengths, strict=True):
        norm = K1 * (1 - B + B * length / avg)
        scores.append(sum(idf[t] * query[t] * f * (K1 + 1) / (f + norm) for t, f in hits.items()))
    return Lexical(scores, len(df))
