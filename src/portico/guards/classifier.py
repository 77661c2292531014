"""Linear text classifiers shipped as package data (``data/*.npz``, no pickle): logistic
regression over hashed character n-gram TF-IDF (``guards.ngrams``) plus a static token embedding distilled
from the packaged MiniLM (see ``guards.tokens``), folded into one weight per WordPiece
token and label. Scoring a text costs one n-gram count and one tokenization, about a
millisecond at 300 tokens; no transformer runs at request time.

The ``.npz`` holds ``labels`` (k), ``w_char`` (k, n_features) float16, ``w_tok`` (k,
vocabulary) float16, ``bias`` (k), ``idf`` (n_features), ``thresholds`` (k, the *flag*
cuts), ``block_thresholds`` (k, stricter cuts set on benign sources the model never saw)
and ``meta`` (a JSON string with the n-gram range, feature count, version, the token
table's recipe and ``prior_tokens``). A text's token term is the sum of ``w_tok`` over its
WordPiece ids divided by (n + ``prior_tokens``), which equals the classifier's weights
applied to the (shrunk, standardised) mean of the distilled token vectors: the fold is
exact because every step is linear. ``scripts/train_guards.py`` rebuilds them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from portico.guards.ngrams import CharNgramHasher

DATA_DIR = Path(__file__).with_name("data")
INJECTION_MODEL = DATA_DIR / "injection_v5.npz"
CONTENT_MODEL = DATA_DIR / "content_v4.npz"

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]


def char_vectorizer(n_features: int, ngram: tuple[int, int]) -> CharNgramHasher:
    """The stateless hashed char n-gram counter; training and inference share it."""
    return CharNgramHasher(n_features, ngram)


def tfidf(counts: Any, idf: FloatArray) -> Any:
    """Sublinear TF times IDF, rows L2-normalised (what sklearn's TfidfTransformer does),
    on the CSR arrays directly (sklearn's ``normalize(x.multiply(idf))`` goes through COO
    and costs ten times more on one row)."""
    x = counts.astype(np.float32)  # a copy: the caller's counts are shared between models
    x.data = (1.0 + np.log(x.data)) * idf[x.indices]
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    norms = np.sqrt(np.bincount(rows, weights=x.data * x.data, minlength=x.shape[0])).astype(np.float32)
    x.data /= np.maximum(norms, 1e-12)[rows]
    return x


def _sigmoid(logits: Any) -> FloatArray:
    return (1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float32)))).astype(np.float32)


def token_term(w_tok: FloatArray, ids: Sequence[IdArray], prior: float) -> FloatArray:
    """(texts, k): per text, each label's token weights summed over its ids and divided by
    (n + prior): a mean shrunk towards the training average (weight 0) by ``prior``
    pseudo-tokens, so a two-word text is not judged by one word alone."""
    out = np.zeros((len(ids), w_tok.shape[0]), dtype=np.float32)
    for i, row in enumerate(ids):
        if len(row):
            out[i] = w_tok[:, row].sum(axis=1) / (len(row) + prior)
    return out


class LinearTextClassifier:
    """Scores texts against ``labels``; ``scores`` returns probabilities, one column each."""

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.labels: list[str] = [str(x) for x in data["labels"]]
            # (n_features, k), C-contiguous: scipy's CSR x dense product wants it that way
            # round and would otherwise copy the whole matrix on every call.
            self._w_char_t = np.ascontiguousarray(data["w_char"].astype(np.float32).T)
            self._w_tok = data["w_tok"].astype(np.float32)
            self._bias = data["bias"].astype(np.float32)
            self._idf = data["idf"].astype(np.float32)
            self.thresholds: dict[str, float] = dict(
                zip(self.labels, (float(t) for t in data["thresholds"]), strict=True)
            )
            self.block_thresholds: dict[str, float] = dict(
                zip(self.labels, (float(t) for t in data["block_thresholds"]), strict=True)
            )
            self.meta: dict[str, Any] = json.loads(str(data["meta"]))
        ngram = self.meta["ngram"]
        self.ngram: tuple[int, int] = (int(ngram[0]), int(ngram[1]))
        self.n_features = int(self.meta["n_features"])
        self.prior_tokens = float(self.meta["prior_tokens"])
        self._vectorizer = char_vectorizer(self.n_features, self.ngram)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "?"))

    def counts(self, texts: Sequence[str]) -> Any:
        """Raw hashed n-gram counts (shareable between models with the same n-gram setup)."""
        return self._vectorizer.transform(texts)

    def scores(self, texts: Sequence[str], counts: Any = None, ids: Sequence[IdArray] | None = None) -> FloatArray:
        """Probabilities, one row per text. ``counts`` (from :meth:`counts`) and ``ids``
        (from ``guards.tokens.token_ids``) can be passed in when already computed."""
        from portico.guards.tokens import token_ids

        chars = tfidf(self.counts(texts) if counts is None else counts, self._idf)
        tokens = token_term(self._w_tok, token_ids(texts) if ids is None else ids, self.prior_tokens)
        return _sigmoid(chars @ self._w_char_t + tokens + self._bias)
