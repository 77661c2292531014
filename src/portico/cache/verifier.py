"""The semantic-hit verifier: gradient-boosted trees over pair features, shipped as NumPy arrays.

Trained by ``bench/train_cache_verifier.py`` on the calibration part of the QQP dev pairs:
a logistic model over the embedding interactions gives one score, and scikit-learn's
HistGradientBoostingClassifier combines it with the lexical pair features. Both are
exported as plain arrays (with the word and character n-gram rarity tables the features
need) and evaluated
here with vectorised tree walks. Loading uses
``allow_pickle=False``: the artifact is data, never code.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from portico.cache.features import FEATURE_NAMES, Rarity
from portico.cache.signals import CHAR_BUCKETS
from portico.errors import ConfigError

VERIFIER_FILE = Path(__file__).with_name("data") / "cache_verifier_v1.npz"


class PairVerifier:
    """``probability(rows)``: the chance that two questions ask the same thing."""

    def __init__(self, path: Path | None = None) -> None:
        source = path or VERIFIER_FILE
        try:
            with np.load(source, allow_pickle=False) as z:
                self._feature = z["feature"].astype(np.int64)  # (trees, nodes); -1 marks a leaf
                self._threshold = z["threshold"].astype(np.float64)
                self._left = z["left"].astype(np.int64)
                self._right = z["right"].astype(np.int64)
                self._missing_left = z["missing_left"].astype(bool)
                self._value = z["value"].astype(np.float64)
                self._baseline = float(z["baseline"])
                self._depth = int(z["max_depth"])
                words = [str(w) for w in z["vocab"]]
                self.rarity = Rarity(
                    dict(zip(words, z["idf"].astype(float).tolist(), strict=True)),
                    float(z["unseen_idf"]),
                    z["char_idf"].astype(np.float64),
                )
                names = tuple(str(n) for n in z["feature_names"])
                self._lr_coef = z["lr_coef"].astype(np.float64)
                self._lr_intercept = float(z["lr_intercept"])
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"cannot load the cache verifier from {source}: {exc}") from exc
        self._feature_flat = self._feature.ravel()
        self._threshold_flat = self._threshold.ravel()
        self._left_flat = self._left.ravel()
        self._right_flat = self._right.ravel()
        self._missing_left_flat = self._missing_left.ravel()
        self._value_flat = self._value.ravel()
        if names != FEATURE_NAMES or self.rarity.chars.shape != (CHAR_BUCKETS,):
            raise ConfigError(f"{source} was trained on other features; rebuild it with bench/train_cache_verifier.py")

    def idf(self, word: str) -> float:
        return self.rarity.word(word)

    def vector_score(self, interactions: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """The logistic score over ``vector_interactions`` rows, shape (n,)."""
        z = np.atleast_2d(interactions).astype(np.float64) @ self._lr_coef + self._lr_intercept
        out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z))
        return out

    def probability(
        self, rows: npt.NDArray[np.float64] | list[list[float]], interactions: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        """Probabilities for (n, pair features) rows and their (n, 768) vector interactions."""
        scalars = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        x = np.concatenate([scalars, self.vector_score(interactions)[:, None]], axis=1)
        return self.tree_probability(x)

    def tree_probability(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The boosted trees on complete feature rows (pair features + vector score)."""
        n, (trees, width) = x.shape[0], self._feature.shape
        # Walk all trees at once on flattened node arrays (1-d takes are the cheap kind).
        base = np.tile(np.arange(trees, dtype=np.int64) * width, n)
        row_offset = np.repeat(np.arange(n, dtype=np.int64) * x.shape[1], trees)
        flat_x = x.ravel()
        node = base.copy()
        for _ in range(self._depth):
            feature = self._feature_flat.take(node)
            leaf = feature < 0
            if leaf.all():
                break
            value = flat_x.take(row_offset + np.maximum(feature, 0))
            below = value <= self._threshold_flat.take(node)
            go_left = np.where(np.isnan(value), self._missing_left_flat.take(node), below)
            step = base + np.where(go_left, self._left_flat.take(node), self._right_flat.take(node))
            node = np.where(leaf, node, step)
        raw = self._baseline + self._value_flat.take(node).reshape(n, trees).sum(axis=1)
        return np.asarray([1.0 / (1.0 + math.exp(-r)) for r in raw])
