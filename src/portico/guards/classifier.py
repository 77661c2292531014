"""Linear text classifiers shipped as package data (``data/*.npz``, no pickle): logistic
regression over a MiniLM sentence embedding plus hashed character n-gram TF-IDF.

The ``.npz`` holds ``labels`` (k), ``w_emb`` (k, 384), ``w_char`` (k, n_features) float16,
``bias`` (k), ``idf`` (n_features), ``thresholds`` (k) and ``meta`` (a JSON string with
the n-gram range, feature count and version). ``scripts/train_guards.py`` rebuilds them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DATA_DIR = Path(__file__).with_name("data")
INJECTION_MODEL = DATA_DIR / "injection_v1.npz"
CONTENT_MODEL = DATA_DIR / "content_v1.npz"

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
            self.meta: dict[str, Any] = json.loads(str(data["meta"]))
        ngram = self.meta["ngram"]
        self._vectorizer = char_vectorizer(int(self.meta["n_features"]), (int(ngram[0]), int(ngram[1])))

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "?"))

    def scores(self, texts: Sequence[str], embeddings: FloatArray) -> FloatArray:
        chars = tfidf(self._vectorizer.transform(texts), self._idf)
        logits = chars @ self._w_char.T + embeddings @ self._w_emb.T + self._bias
        return (1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float32)))).astype(np.float32)
