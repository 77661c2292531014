"""Pair features for the semantic-hit verifier (one fixed layout, shared by training and serving).

Beyond cosine similarity, what tells paraphrases from near-misses is lexical: which words
are on one side only (weighted by rarity), whether the question word or the grammatical
person changed, whether shared words kept their order ("is X better than Y" vs "is Y
better than X"), and the veto signals. Two second similarities sit beside the cosine: a
TF-IDF cosine over words and one over hashed character n-grams, both weighted by rarity
tables fitted on the training pairs (``Rarity``, shipped in the verifier artifact).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from portico.cache.signals import CHAR_BUCKETS, PRONOUNS, CharGrams, Signals, split_words
from portico.cache.signals import stem as stem_of
from portico.cache.vetoes import entities_differ, negation_differs, numbers_differ

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Rarity:
    """Weights fitted on the training pairs: word IDF (rarer words weigh more) and the IDF of
    each hashed character n-gram bucket (see ``signals.char_buckets``)."""

    words: Mapping[str, float]
    unseen: float
    chars: npt.NDArray[np.float64]  # (CHAR_BUCKETS,)

    def word(self, w: str) -> float:
        return self.words.get(w, self.unseen)

    @staticmethod
    def flat(words: Mapping[str, float], unseen: float) -> Rarity:
        """Word weights only; every character n-gram weighs 1 (for tests and tools)."""
        return Rarity(words, unseen, np.ones(CHAR_BUCKETS))


QUESTION_WORDS = frozenset(
    split_words(
        "what how why when where who which whom whose is are can do does should will would could did was were has have"
    )
)
PERSON = {
    **dict.fromkeys(("i", "me", "my", "mine", "myself"), 1),
    **dict.fromkeys(("you", "your", "yours", "yourself"), 2),
    **dict.fromkeys(("we", "us", "our", "ours"), 3),
    **dict.fromkeys(("he", "she", "him", "her", "his", "hers"), 4),
    **dict.fromkeys(("they", "them", "their", "theirs"), 5),
}
# Words that point at something outside the text (an image, an earlier message): the answer
# depends on what "this" was, so such questions rarely transfer.
DEICTIC = frozenset(split_words("this these here following attached above below picture image pic photo"))

FEATURE_NAMES: tuple[str, ...] = (
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
    "first_question_word_equal",
    "question_words_equal",
    "person_equal",
    "person_changed",
    "deictic",
    "idf_only_sum",
    "idf_only_max",
    "idf_only_min_side",
    "idf_only_share",
    "shared_order",
    "word_lcs_ratio",
    "identical_words",
    "word_len_diff",
    # Content words after a light stem ("gifts" / "gift"): how many and how rare the unmatched are.
    "stem_only_min",
    "stem_only_max",
    "stem_idf_only_sum",
    "stem_idf_only_max",
    "stem_jaccard",
    # The first question word of each side (codes of signals.WH_WORDS), and whether they agree.
    "question_word_cached",
    "question_word_query",
    "question_word_same",
    "question_word_low",
    "question_word_high",
    # Second similarity measures: TF-IDF cosine over words and over hashed character 3-5-grams.
    "tfidf_cosine",
    "char_cosine",
    "numbers_only_count",
    "words_cached",
    "words_query",
)
# The verifier appends one more: a logistic score over vector_interactions (see verifier.py).
N_FEATURES = len(FEATURE_NAMES) + 1


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def _ratio(x: int, y: int) -> float:
    return min(x, y) / max(x, y) if max(x, y) else 1.0


def _lcs(a: list[str], b: list[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _weighted_cosine(a: Mapping[K, int], b: Mapping[K, int], w: Mapping[K, float]) -> float:
    dot = math.fsum(n * b.get(k, 0) * w[k] ** 2 for k, n in a.items())
    na = math.sqrt(math.fsum((n * w[k]) ** 2 for k, n in a.items()))
    nb = math.sqrt(math.fsum((n * w[k]) ** 2 for k, n in b.items()))
    return dot / (na * nb) if na and nb else 0.0


def _grams_cosine(a: CharGrams, b: CharGrams, weights: npt.NDArray[np.float64]) -> float:
    (ia, ca), (ib, cb) = a, b
    wa, wb = ca * weights[ia], cb * weights[ib]
    _, xa, xb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
    norm = float(np.linalg.norm(wa) * np.linalg.norm(wb))
    return float(wa[xa] @ wb[xb]) / norm if norm else 0.0


def _lexical_extras(a: Signals, b: Signals, rarity: Rarity) -> list[float]:
    """The features after ``word_len_diff`` (stems, question words, TF-IDF and n-gram cosines)."""
    idf = rarity.word
    only_a = [w for w in a.content if stem_of(w) not in b.stems]
    only_b = [w for w in b.content if stem_of(w) not in a.stems]
    weights = [idf(w) for w in only_a] + [idf(w) for w in only_b]
    stems_union = len(a.stems | b.stems)
    qa, qb = a.question_word, b.question_word
    ta, tb = Counter(a.tokens), Counter(b.tokens)
    word_w = {w: idf(w) for w in ta.keys() | tb.keys()}
    return [
        float(min(len(only_a), len(only_b))),
        float(max(len(only_a), len(only_b))),
        math.fsum(weights),
        max(weights, default=0.0),
        len(a.stems & b.stems) / stems_union if stems_union else 0.0,
        float(qa),
        float(qb),
        float(qa == qb),
        float(min(qa, qb)),
        float(max(qa, qb)),
        _weighted_cosine(ta, tb, word_w),
        _grams_cosine(a.char_grams, b.char_grams, rarity.chars),
        float(len(set(a.numbers) ^ set(b.numbers))),
        float(len(a.tokens)),
        float(len(b.tokens)),
    ]


def pair_features(a: Signals, b: Signals, cosine: float, rarity: Rarity) -> list[float]:
    """The feature row for cached question ``a`` and query ``b`` (order as FEATURE_NAMES).

    Sums over word sets use ``math.fsum``: set order follows the per-process string hash
    salt, and a plain ``sum`` would round differently from run to run (and so would training).
    """
    idf = rarity.word
    ca, cb = a.content, b.content
    only_a, only_b = len(ca - cb), len(cb - ca)
    ents = {e for e in a.entities if not b.mentions(e)} | {e for e in b.entities if not a.mentions(e)}
    ta, tb = a.tokens, b.tokens
    na, nb = len(ta), len(tb)
    qa = [w for w in ta if w in QUESTION_WORDS]
    qb = [w for w in tb if w in QUESTION_WORDS]
    pa = {PERSON[w] for w in ta if w in PERSON}
    pb = {PERSON[w] for w in tb if w in PERSON}
    ia = [idf(w) for w in a.token_set - b.token_set]
    ib = [idf(w) for w in b.token_set - a.token_set]
    total = math.fsum(idf(w) for w in a.token_set | b.token_set) or 1.0
    shared = ca & cb
    order_a = [w for w in ta if w in shared]
    order_b = [w for w in tb if w in shared]
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
        float(bool(ta and tb and ta[0] == tb[0])),
        float(qa[:1] == qb[:1]),
        float(set(qa) == set(qb)),
        float(pa == pb),
        float(bool(pa ^ pb)),
        float(bool(a.token_set & DEICTIC or b.token_set & DEICTIC)),
        math.fsum(ia) + math.fsum(ib),
        max([*ia, *ib, 0.0]),
        min(math.fsum(ia), math.fsum(ib)),
        (math.fsum(ia) + math.fsum(ib)) / total,
        _lcs(order_a, order_b) / max(len(order_a), 1) if shared else 1.0,
        _lcs(ta, tb) / max(na, nb, 1),
        float(ta == tb),
        float(abs(na - nb)),
        *_lexical_extras(a, b, rarity),
    ]


def vector_interactions(va: npt.NDArray[np.float32], vb: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Symmetric interactions of the two embeddings: ``va*vb`` then ``|va-vb|``."""
    out: npt.NDArray[np.float32] = np.concatenate([va * vb, np.abs(va - vb)], axis=-1)
    return out
