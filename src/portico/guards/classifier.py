"""Linear text classifiers shipped as package data (``data/*.npz``, no pickle): logistic
regression over a MiniLM sentence embedding plus hashed character n-gram TF-IDF, with an
optional *screen* that lets most benign text skip the embedding.

The ``.npz`` holds ``labels`` (k), ``w_emb`` (k, 384), ``w_char`` (k, n_features) float16,
``bias`` (k), ``idf`` (n_features), ``thresholds`` (k) and ``meta`` (a JSON string with
the n-gram range, feature count, version, the embedding model and the head+tail view
length). Version 2 artifacts add ``block_thresholds`` (k), stricter cuts set on benign
sources the model never saw, and the screen: ``w_screen`` (k, n_features) float16,
``bias_screen`` (k) and ``skip`` (k), a character-only model whose probability below
``skip`` (for every label) means the full model is not needed. ``skip`` is set on
out-of-fold validation scores so that it lets through at most a stated share of positives
(``meta["screen"]``). ``scripts/train_guards.py`` rebuilds them."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DATA_DIR = Path(__file__).with_name("data")
INJECTION_MODEL = DATA_DIR / "injection_v3.npz"
CONTENT_MODEL = DATA_DIR / "content_v3.npz"

FloatArray = npt.NDArray[np.float32]


def char_vectorizer(n_features: int, ngram: tuple[int, int]) -> Any:
    """The stateless hashed char n-gram counter; training and inference share it."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=ngram,
        n_features=n_features,
        alternate_sign=False,
        norm=None,
        lowercase=True,
    )


def tfidf(counts: Any, idf: FloatArray) -> Any:
    """Sublinear TF times IDF, rows L2-normalised (what sklearn's TfidfTransformer does)."""
    from sklearn.preprocessing import normalize

    x = counts.astype(np.float32)
    x.data = 1.0 + np.log(x.data)
    return normalize(x.multiply(idf).tocsr())


def head_tail(text: str, chars: int) -> str:
    """The first and last ``chars / 2`` characters of a long text: attacks sit at the
    start of a prompt or at the end of a quoted document, and the embedding's cost grows
    with length. ``chars`` 0 keeps the whole text."""
    if chars <= 0 or len(text) <= chars:
        return text
    half = chars // 2
    return text[:half] + " … " + text[-half:]


def _sigmoid(logits: Any) -> FloatArray:
    return (1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float32)))).astype(np.float32)


class LinearTextClassifier:
    """Scores texts against ``labels``; ``scores`` returns probabilities, one column each."""

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.labels: list[str] = [str(x) for x in data["labels"]]
            self._w_emb = data["w_emb"].astype(np.float32)
            self._w_char = data["w_char"].astype(np.float32)
            self._bias = data["bias"].astype(np.float32)
            self._idf = data["idf"].astype(np.float32)
            self.thresholds: dict[str, float] = dict(
                zip(self.labels, (float(t) for t in data["thresholds"]), strict=True)
            )
            block = data["block_thresholds"] if "block_thresholds" in data else data["thresholds"]
            self.block_thresholds: dict[str, float] = dict(zip(self.labels, (float(t) for t in block), strict=True))
            self._screen: tuple[FloatArray, FloatArray, FloatArray] | None = None
            if "w_screen" in data:
                self._screen = (
                    data["w_screen"].astype(np.float32),
                    data["bias_screen"].astype(np.float32),
                    data["skip"].astype(np.float32),
                )
            self.meta: dict[str, Any] = json.loads(str(data["meta"]))
        ngram = self.meta["ngram"]
        self.ngram: tuple[int, int] = (int(ngram[0]), int(ngram[1]))
        self.n_features = int(self.meta["n_features"])
        self._vectorizer = char_vectorizer(self.n_features, self.ngram)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "?"))

    @property
    def view_chars(self) -> int:
        """How much of a text the embedding sees (head + tail characters; 0 = all)."""
        return int(self.meta.get("view_chars", 0))

    def counts(self, texts: Sequence[str]) -> Any:
        """Raw hashed n-gram counts (shareable between models with the same n-gram setup)."""
        return self._vectorizer.transform(texts)

    def scores(self, texts: Sequence[str], embeddings: FloatArray, counts: Any = None) -> FloatArray:
        """Full-model probabilities; ``embeddings`` are of ``head_tail(text, view_chars)``."""
        chars = tfidf(self.counts(texts) if counts is None else counts, self._idf)
        return _sigmoid(chars @ self._w_char.T + embeddings @ self._w_emb.T + self._bias)

    @property
    def skip(self) -> FloatArray | None:
        """Per label, the screen probability under which the embedding is skipped."""
        return None if self._screen is None else self._screen[2]

    def screen(self, counts: Any) -> FloatArray | None:
        """The character-only screen's probabilities (None when the artifact has none)."""
        if self._screen is None:
            return None
        w, b, _ = self._screen
        return _sigmoid(tfidf(counts, self._idf) @ w.T + b)

    def score_one(self, text: str, embed: Callable[[str], FloatArray], counts: Any = None) -> FloatArray:
        """Probabilities for one text, computing the embedding (``embed(view)``) only when
        the screen cannot clear it: below ``skip`` for every label, the screen's own
        probabilities are returned (all under the thresholds, since ``skip`` is)."""
        counts = self.counts([text]) if counts is None else counts
        screened = self.screen(counts)
        if screened is not None and self._screen is not None and bool(np.all(screened[0] < self._screen[2])):
            cleared: FloatArray = screened[0]
            return cleared
        full: FloatArray = self.scores([text], embed(head_tail(text, self.view_chars)), counts)[0]
        return full
