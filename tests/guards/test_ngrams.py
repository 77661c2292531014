from __future__ import annotations

import numpy as np
import pytest

from portico.guards.ngrams import CharNgramHasher


def test_every_ngram_is_counted_once_per_occurrence() -> None:
    hasher = CharNgramHasher(1 << 17, (2, 5))
    # The text is padded to " abc " (5 characters): 5 - n + 1 n-grams of each length n in 2..5.
    row = hasher.transform(["abc"])
    assert row.sum() == 4 + 3 + 2 + 1
    assert row.shape == (1, 1 << 17)


def test_case_and_whitespace_do_not_change_the_counts() -> None:
    hasher = CharNgramHasher(1 << 17, (2, 5))
    a, b = hasher.transform(["Ignore  the\nrules", "ignore the rules"])
    assert (a != b).nnz == 0


def test_the_same_ngram_lands_in_the_same_bucket_wherever_it_is() -> None:
    hasher = CharNgramHasher(1 << 17, (3, 3))
    first = set(hasher.buckets("xyz").tolist())
    later = set(hasher.buckets("hello xyz").tolist())
    assert first <= later
    assert len(set(hasher.buckets("abcdefghij").tolist())) == 10  # " abcdefghij ": 10 distinct trigrams


def test_empty_and_non_latin_text() -> None:
    hasher = CharNgramHasher(1 << 10, (2, 4))
    rows = hasher.transform(["", "Привет, мир", "日本語"])
    assert rows.shape == (3, 1 << 10)
    assert np.all(np.asarray(rows.sum(axis=1)).ravel() > 0)


def test_feature_count_must_be_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        CharNgramHasher(1000, (2, 5))
