"""Lexical analysis for BM25, shared by every backend so their rankings agree.

bm25s's English setup: two-or-more-character word tokens, lower case, its short English
stop-word list, Snowball stemming.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _analysis() -> tuple[frozenset[str], Any]:
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN), Stemmer.Stemmer("english")


def lexical_tokens(text: str) -> list[str]:
    stop, stemmer = _analysis()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return list(stemmer.stemWords(words))


def lexical_tokens_many(texts: Iterable[str]) -> list[list[str]]:
    return [lexical_tokens(t) for t in texts]
