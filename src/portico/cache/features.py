"""Pair features for the semantic-hit verifier (one fixed layout, shared by training and serving)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from portico.cache.signals import PRONOUNS, Signals
from portico.cache.vetoes import entities_differ, negation_differs, numbers_differ

SCALAR_NAMES: tuple[str, ...] = (
    "cosine",
    "word_jaccard",
    "content_jaccard",
    "content_only_min",
    "content_only_max",
    "trigram_jaccard",
    "char_len_ratio",
    "word_len_ratio",
    "log_words_mean",
    "number_mismatch",
    "negation_mismatch",
    "entity_mismatch",
    "entity_only_count",
    "pronoun_mismatch",
    "first_word_equal",
)
N_SCALARS = len(SCALAR_NAMES)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def _ratio(x: int, y: int) -> float:
    return min(x, y) / max(x, y) if max(x, y) else 1.0


def scalar_features(a: Signals, b: Signals, cosine: float) -> list[float]:
    ca, cb = a.content, b.content
    only_a, only_b = len(ca - cb), len(cb - ca)
    ents = {e for e in a.entities if e not in b.token_set} | {e for e in b.entities if e not in a.token_set}
    na, nb = len(a.tokens), len(b.tokens)
    return [
        cosine,
        _jaccard(a.token_set, b.token_set),
        _jaccard(ca, cb),
        float(min(only_a, only_b)),
        float(max(only_a, only_b)),
        _jaccard(a.trigrams, b.trigrams),
        _ratio(len(a.text), len(b.text)),
        _ratio(na, nb),
        math.log1p((na + nb) / 2),
        float(numbers_differ(a, b)),
        float(negation_differs(a, b)),
        float(entities_differ(a, b)),
        float(len(ents)),
        float(bool(a.token_set & PRONOUNS) != bool(b.token_set & PRONOUNS)),
        float(bool(a.tokens and b.tokens and a.tokens[0] == b.tokens[0])),
    ]


def pair_features(
    a: Signals, b: Signals, va: npt.NDArray[np.float32], vb: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Scalars, then the symmetric vector interactions ``va*vb`` and ``|va-vb|``."""
    cosine = float(np.dot(va, vb))
    scalars = np.asarray(scalar_features(a, b, cosine), dtype=np.float32)
    return np.concatenate([scalars, va * vb, np.abs(va - vb)]).astype(np.float32)
