"""The pair reader on real MiniLM token vectors: its features, its score, and where the judge uses it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from portico.cache import CacheSettings
from portico.cache.factory import build_reader
from portico.cache.judge import SemanticJudge
from portico.cache.offline import judge_pairs
from portico.cache.reader import READER_FEATURES, PairReader, reader_features
from portico.cache.settings import SemanticSettings
from portico.cache.verifier import PairVerifier
from portico.embeddings import MiniLMEmbedder
from portico.embeddings.minilm import TokenVectors

from .conftest import BagOfWordsEmbedder

SHORT = "How do I learn Python?"
MORE = "How do I learn Python for data science in one month?"
PARAPHRASE = ("How can I improve my English speaking skills?", "How do I improve my English speaking skills?")


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def reader(embedder: MiniLMEmbedder) -> PairReader:
    return PairReader(embedder)


class CountingEncoder:
    """Counts the texts sent to the model (to see the reader's memo at work)."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def token_vectors(self, texts: Sequence[str]) -> list[TokenVectors]:
        self.texts += texts
        return self.inner.token_vectors(texts)


def feature(row: list[float], name: str) -> float:
    return row[READER_FEATURES.index(name)]


def test_token_vectors_are_unit_rows_per_wordpiece(embedder: MiniLMEmbedder) -> None:
    short, more = embedder.token_vectors([SHORT, MORE])
    assert short.ids.tolist() == embedder.token_ids(SHORT)
    assert more.vectors.shape == (len(embedder.token_ids(MORE)), 384)
    assert np.allclose(np.linalg.norm(more.vectors, axis=1), 1.0, atol=1e-5)


def test_an_added_scope_shows_as_unaligned_mass_on_the_longer_side(reader: PairReader) -> None:
    short, more = reader.tokens([SHORT, MORE])
    same = reader_features(short, short, reader.table, 0.9, 1.0)
    assert feature(same, "max_unaligned_mass_0.65") == 0.0
    assert feature(same, "min_wmean_align") == pytest.approx(1.0, abs=1e-5)
    row = reader_features(short, more, reader.table, 0.9, 0.85)
    assert feature(row, "max_unaligned_mass_0.65") > 2.0  # "data science", "one month" (rare words)
    assert feature(row, "max_unaligned_number") >= 1.0  # "one"
    assert feature(row, "query_minus_cached_gap_mass") > 0  # the query is the side that asks more


def test_the_reader_is_a_probability_that_reacts_to_unaligned_words(reader: PairReader) -> None:
    same = reader.score(SHORT, "How can I learn Python?", 0.9, 0.9)
    more = reader.score(SHORT, MORE, 0.9, 0.9)
    assert 0.0 < same < 1.0 and 0.0 < more < 1.0
    assert abs(same - more) > 0.01  # the token alignment moves the score, not only the verifier's


def test_the_judge_takes_the_readers_score_inside_the_band(embedder: MiniLMEmbedder, reader: PairReader) -> None:
    settings = SemanticSettings()
    assert settings.reader is False  # experimental: off unless asked for
    plain = SemanticJudge(settings, PairVerifier(), reader)  # the setting wins over a passed reader
    judge = SemanticJudge(settings.model_copy(update={"reader": True}), PairVerifier(), reader)
    cached, query = PARAPHRASE
    vc, vq = embedder.embed([cached, query])
    before = plain.decide(query, cached, vq, vc)
    assert before.score is not None and reader.in_band(before.score)
    after = judge.decide(query, cached, vq, vc)
    assert after.score == pytest.approx(reader.score(cached, query, before.score, before.similarity))
    assert after.score != before.score


def test_the_reader_memoises_recent_texts(embedder: MiniLMEmbedder) -> None:
    encoder = CountingEncoder(embedder)
    reader = PairReader(encoder)
    reader.score(SHORT, MORE, 0.9, 0.85)
    reader.score(SHORT, PARAPHRASE[0], 0.9, 0.85)
    assert encoder.texts == [SHORT, MORE, PARAPHRASE[0]]


def test_the_reader_is_opt_in_and_needs_token_vectors(embedder: MiniLMEmbedder) -> None:
    on = CacheSettings.model_validate({"semantic": {"reader": True}})
    assert isinstance(build_reader(on, embedder), PairReader)
    assert build_reader(on, BagOfWordsEmbedder()) is None
    assert build_reader(CacheSettings(), embedder) is None


async def test_the_gateway_path_runs_the_reader_when_asked(embedder: MiniLMEmbedder) -> None:
    pairs = [{"cached": PARAPHRASE[0], "query": PARAPHRASE[1]}]
    on = CacheSettings.model_validate({"semantic": {"reader": True}})
    (plain,) = await judge_pairs(pairs, CacheSettings(), embedder)
    (read,) = await judge_pairs(pairs, on, embedder)
    assert plain["tier"] == "semantic" and read["similarity"] == plain["similarity"]
    expected = PairReader(embedder).score(*PARAPHRASE, plain["score"], plain["similarity"])
    assert read["score"] == pytest.approx(expected, abs=2e-4)  # verdict scores are rounded to 4 places
