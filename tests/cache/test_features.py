"""Verifier pair features: light stems, question words, the second similarities, artifact checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from portico.cache.features import FEATURE_NAMES, Rarity, pair_features
from portico.cache.signals import CHAR_BUCKETS, Signals, char_buckets, stem
from portico.cache.verifier import VERIFIER_FILE, PairVerifier
from portico.errors import ConfigError

FLAT = Rarity.flat({"the": 0.1}, 5.0)


def row(cached: str, query: str, rarity: Rarity = FLAT) -> dict[str, float]:
    values = pair_features(Signals(cached), Signals(query), 0.9, rarity)
    assert len(values) == len(FEATURE_NAMES)
    return dict(zip(FEATURE_NAMES, values, strict=True))


@pytest.mark.parametrize(
    ("word", "expected"),
    [("gifts", "gift"), ("studies", "study"), ("learning", "learn"), ("is", "is"), ("bus", "bus")],
)
def test_light_stem(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_char_buckets_are_stable_and_bounded() -> None:
    ids, counts = char_buckets(["how", "old"])
    again = char_buckets(["how", "old"])
    assert np.array_equal(ids, again[0]) and np.array_equal(counts, again[1])
    assert np.all(np.diff(ids) > 0) and ids.min() >= 0 and ids.max() < CHAR_BUCKETS
    # " how old " has 7 trigrams, 6 four-grams and 5 five-grams.
    assert counts.sum() == 18
    assert char_buckets([])[0].size == 0


def test_plural_and_inflection_differences_leave_no_unmatched_stems() -> None:
    r = row("What are the best gifts for your girlfriend?", "What is the best gift for a girlfriend?")
    assert r["stem_only_max"] == 0 and r["stem_jaccard"] == 1.0
    assert r["content_only_max"] >= 1  # the unstemmed word sets still differ


def test_question_word_change_is_visible() -> None:
    same = row("How do I learn Python?", "How can I learn Python?")
    changed = row("Why do I learn Python?", "When do I learn Python?")
    assert same["question_word_same"] == 1 and changed["question_word_same"] == 0
    assert changed["question_word_low"] == 3 and changed["question_word_high"] == 4  # why, when


def test_second_similarities() -> None:
    same = row("Where is the Eiffel tower?", "where is the eiffel tower")
    assert same["tfidf_cosine"] == pytest.approx(1.0) and same["char_cosine"] == pytest.approx(1.0)
    other = row("Where is the Eiffel tower?", "How do pandas sleep?")
    assert other["tfidf_cosine"] == 0.0 and other["char_cosine"] < 0.2
    assert row("Is 5 more than 3?", "Is 5 more than 4?")["numbers_only_count"] == 2


def test_shipped_verifier_has_the_character_weights() -> None:
    verifier = PairVerifier()
    assert verifier.rarity.chars.shape == (CHAR_BUCKETS,)
    assert verifier.idf("the") == verifier.rarity.word("the")


def test_an_artifact_for_other_features_is_refused(tmp_path: Path) -> None:
    with np.load(VERIFIER_FILE, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["feature_names"] = arrays["feature_names"][:-1]
    stale = tmp_path / "stale.npz"
    np.savez(stale, **arrays)
    with pytest.raises(ConfigError, match="other features"):
        PairVerifier(stale)
