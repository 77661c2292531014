"""The injection cascade's second stage (``injection_v5m``: ``injection_v3``'s recipe from
fac46d4, refitted with the authored benign instruction corpus by
``scripts/train_guard_second_stage.py``), logistic regression over a MiniLM sentence
embedding (the int8 copy, of a head+tail view of the text) plus hashed ``char_wb`` n-gram
TF-IDF (sklearn's hasher, not ``guards.ngrams``: the weights were fitted on it).

Why kept: the static-token models of ``guards.classifier`` are ~2 ms but have no context;
on instruction-shaped benign text (role-play personas, follow-ups) they flag about twice
as much as this model. The cascade (``guards.cascade``) runs this model only on texts the
fast model scores near or above its cuts, so benign traffic rarely pays for the
transformer pass (10-20 ms per text on one core).

The ``.npz`` holds ``labels`` (k), ``w_emb`` (k, 384), ``w_char`` (k, n_features) float16,
``bias`` (k), ``idf`` (n_features) and ``meta`` (JSON: n-gram range, feature count,
version, ``view_chars``); its cuts are the cascade's (``data/injection_cascade.json``).
``content_v3.npz`` (restored from fac46d4) has the same layout plus its own thresholds and
an unused character screen (``w_screen``...)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from portico.guards.classifier import DATA_DIR, FloatArray, _sigmoid

INJECTION_EMBEDDING_MODEL = DATA_DIR / "injection_v5m.npz"
# The content cascade's second stage (content_v3, restored byte for byte from fac46d4):
# same recipe, same 600-char view, so its embedding is shared with the injection stage's.
CONTENT_EMBEDDING_MODEL = DATA_DIR / "content_v3.npz"


def char_wb_vectorizer(n_features: int, ngram: tuple[int, int]) -> Any:
    """The hashed char_wb n-gram counter the v3 weights were fitted with."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=ngram,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        lowercase=True,
    )


def head_tail(text: str, chars: int) -> str:
    """The first and last ``chars / 2`` characters of a long text: attacks sit at the start
    of a prompt or at the end of a quoted document, and the embedding's cost grows with
    length. ``chars`` 0 keeps the whole text."""
    if chars <= 0 or len(text) <= chars:
        return text
    half = chars // 2
    return text[:half] + " … " + text[-half:]


def _tfidf(counts: Any, idf: FloatArray) -> Any:
    from sklearn.preprocessing import normalize

    x = counts.astype(np.float32)
    x.data = 1.0 + np.log(x.data)
    return normalize(x.multiply(idf).tocsr())


class EmbeddingTextClassifier:
    """Scores texts from their n-grams and the embedding of their head+tail view."""

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.labels: list[str] = [str(x) for x in data["labels"]]
            self._w_emb = data["w_emb"].astype(np.float32)
            self._w_char_t = np.ascontiguousarray(data["w_char"].astype(np.float32).T)
            self._bias = data["bias"].astype(np.float32)
            self._idf = data["idf"].astype(np.float32)
            self.meta: dict[str, Any] = json.loads(str(data["meta"]))
        ngram = self.meta["ngram"]
        self.ngram: tuple[int, int] = (int(ngram[0]), int(ngram[1]))
        self.n_features = int(self.meta["n_features"])
        self.view_chars = int(self.meta.get("view_chars", 0))
        self._vectorizer = char_wb_vectorizer(self.n_features, self.ngram)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "?"))

    def views(self, texts: Sequence[str]) -> list[str]:
        """What the embedder must see for ``texts``."""
        return [head_tail(t, self.view_chars) for t in texts]

    def scores(self, texts: Sequence[str], embeddings: FloatArray) -> FloatArray:
        """Probabilities, one row per text; ``embeddings`` are of :meth:`views`."""
        chars = _tfidf(self._vectorizer.transform(list(texts)), self._idf)
        return _sigmoid(chars @ self._w_char_t + np.asarray(embeddings, dtype=np.float32) @ self._w_emb.T + self._bias)
