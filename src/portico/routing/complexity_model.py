"""The learned complexity model: multinomial logistic regression over hashed word n-grams
(TF-IDF) and cheap text features, stored as plain arrays in an ``.npz`` file (no pickle).

It predicts, from the prompt alone, P(strong better), P(tie), P(fast better), with one set of
weights ("head") per prompt form (multiple-choice vs open, see ``features.prompt_form``;
artifacts with one head use it for every prompt). Each head may also have gradient-boosted
trees over the dense text features (``trees.TreeEnsemble``); the probabilities are then a
mixture, ``(1 - tree_weight) * P(regression) + tree_weight * P(trees)``. The score is
``(1 + P(strong better) - P(fast better)) / 2``: the strong model's expected advantage on
a [0, 1] scale (0.5 = none), which ranks questions for routing better than P(strong better)
alone. The file also holds the score distribution and the quality curve on its validation
split, so a threshold can be set from a traffic share or a quality floor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from portico.errors import ConfigError
from portico.routing.features import FEATURE_NAMES, FORMS, prompt_form, text_features
from portico.routing.ngrams import HashedTfidf
from portico.routing.trees import TreeEnsemble

ARTIFACT_VERSION = "complexity-v3"
DEFAULT_ARTIFACT = f"{ARTIFACT_VERSION}.npz"
CLASSES = ("fast_better", "tie", "strong_better")

F32 = npt.NDArray[np.float32]


@dataclass(slots=True)
class ComplexityModel:
    tfidf: HashedTfidf
    w_text: F32  # (buckets, 3 * heads): head h in columns 3h..3h+2
    w_feat: F32  # (len(FEATURE_NAMES), 3 * heads)
    bias: F32  # (3 * heads,)
    feat_mean: F32
    feat_scale: F32
    ref_scores: F32  # quantiles of the validation scores (for share thresholds)
    curve_share: F32  # validation curve: strong share ...
    curve_quality: F32  # ... -> quality as a fraction of the strong model's
    meta: dict[str, Any] = field(default_factory=dict)
    trees: TreeEnsemble = field(default_factory=TreeEnsemble.empty)
    tree_weight: float = 0.0  # share of the trees in the mixture (0: regression only)

    def probabilities(self, text: str) -> F32:
        """(P(fast better), P(tie), P(strong better)) for one prompt."""
        feats = (text_features(text) - self.feat_mean) / self.feat_scale
        h = self.head(text)
        cols = slice(3 * h, 3 * h + 3)
        w_text, w_feat = self.w_text[:, cols], self.w_feat[:, cols]
        out = _softmax(self.tfidf.dot(text, w_text) + feats @ w_feat + self.bias[cols])
        if self.tree_weight > 0 and self.trees.covers(h):
            tree_p = _softmax(self.trees.logits(feats.astype(np.float32), h))
            out = ((1.0 - self.tree_weight) * out + self.tree_weight * tree_p).astype(np.float32)
        return out

    @property
    def heads(self) -> int:
        return int(self.bias.shape[0]) // 3

    def head(self, text: str) -> int:
        """The weight set for ``text``: its prompt form when the model has one head per form."""
        return prompt_form(text) if self.heads == len(FORMS) else 0

    def score(self, text: str) -> float:
        p = self.probabilities(text)
        return float((1.0 + p[2] - p[0]) / 2.0)

    def scores(self, texts: list[str]) -> F32:
        return np.array([self.score(t) for t in texts], dtype=np.float32)

    def share_threshold(self, share: float) -> float:
        """The score above which ``share`` of validation traffic goes to the strong model."""
        if share <= 0:
            return 1.0
        if share >= 1:
            return 0.0
        qs = np.linspace(0.0, 1.0, len(self.ref_scores))
        return float(np.interp(1.0 - share, qs, self.ref_scores))

    def share_for_quality(self, frac: float) -> float:
        """The smallest validation strong share whose quality reached ``frac`` of the strong model's."""
        ok = np.nonzero(self.curve_quality >= frac)[0]
        return float(self.curve_share[ok[0]]) if ok.size else 1.0

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {
            "idf": self.tfidf.idf.astype(np.float16),
            "w_text": self.w_text.astype(np.float16),
            "w_feat": self.w_feat,
            "bias": self.bias,
            "feat_mean": self.feat_mean,
            "feat_scale": self.feat_scale,
            "ref_scores": self.ref_scores,
            "curve_share": self.curve_share,
            "curve_quality": self.curve_quality,
            "tree_weight": np.array([self.tree_weight], dtype=np.float32),
            **self.trees.arrays(),
            "meta": np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8),
        }
        with path.open("wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: Path | None = None) -> ComplexityModel:
        """Load ``path``, or the artifact shipped with Portico."""
        try:
            if path is None:
                ref = resources.files("portico.routing").joinpath("data", DEFAULT_ARTIFACT)
                with ref.open("rb") as fh:
                    return cls._from_npz(fh)
            with path.open("rb") as fh:
                return cls._from_npz(fh)
        except FileNotFoundError as exc:
            raise ConfigError(
                f"Complexity model not found: {path or DEFAULT_ARTIFACT}. "
                "Rebuild it with `python scripts/train_router.py` or `portico router train`."
            ) from exc
        except (KeyError, ValueError, OSError) as exc:
            raise ConfigError(f"Complexity model {path or DEFAULT_ARTIFACT} is unreadable: {exc}") from exc

    @classmethod
    def _from_npz(cls, fh: Any) -> ComplexityModel:
        with np.load(fh, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("features") != list(FEATURE_NAMES):
                raise ValueError("it was trained with other text features; retrain it")
            if z["bias"].shape[0] not in (3, 3 * len(FORMS)):
                raise ValueError(f"it has {z['bias'].shape[0]} output columns; expected 3 or {3 * len(FORMS)}")
            trees = TreeEnsemble.from_arrays(z)
            if len(trees) and (trees.base.shape[0] != z["bias"].shape[0] or trees.feature.max() >= len(FEATURE_NAMES)):
                raise ValueError("its trees do not match its heads or features")
            return cls(
                tfidf=HashedTfidf(z["idf"].astype(np.float32)),
                w_text=z["w_text"].astype(np.float32),
                w_feat=z["w_feat"].astype(np.float32),
                bias=z["bias"].astype(np.float32),
                feat_mean=z["feat_mean"].astype(np.float32),
                feat_scale=z["feat_scale"].astype(np.float32),
                ref_scores=z["ref_scores"].astype(np.float32),
                curve_share=z["curve_share"].astype(np.float32),
                curve_quality=z["curve_quality"].astype(np.float32),
                meta=meta,
                trees=trees,
                tree_weight=float(z["tree_weight"][0]) if "tree_weight" in z.files else 0.0,
            )


def _softmax(logits: npt.NDArray[Any]) -> F32:
    e = np.exp(logits - logits.max())
    out: F32 = (e / e.sum()).astype(np.float32)
    return out
