"""The semantic-hit verifier: a small MLP over pair features, shipped as a NumPy artifact.

The weights come from ``bench/train_cache_verifier.py`` (calibration part of the QQP dev
pairs). Stored as plain arrays (``allow_pickle=False``) so loading runs no code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from portico.errors import ConfigError

VERIFIER_FILE = Path(__file__).with_name("data") / "cache_verifier_v1.npz"


class PairVerifier:
    """``probability(features)``: the chance that two questions ask the same thing."""

    def __init__(self, path: Path | None = None) -> None:
        source = path or VERIFIER_FILE
        try:
            with np.load(source, allow_pickle=False) as arrays:
                self._mean = arrays["mean"].astype(np.float32)
                self._scale = arrays["scale"].astype(np.float32)
                self._layers = [
                    (arrays[f"w{i}"].astype(np.float32), arrays[f"b{i}"].astype(np.float32))
                    for i in range(int(arrays["n_layers"]))
                ]
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"cannot load the cache verifier from {source}: {exc}") from exc

    @property
    def n_features(self) -> int:
        return int(self._mean.shape[0])

    def probability(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Probabilities for a (n, features) matrix or a single feature row."""
        x = (np.atleast_2d(features) - self._mean) / self._scale
        for i, (w, b) in enumerate(self._layers):
            x = x @ w + b
            if i < len(self._layers) - 1:
                x = np.maximum(x, 0.0)
        out: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-x[:, 0]))).astype(np.float32)
        return out
