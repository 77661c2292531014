"""Training the complexity model from per-prompt outcomes of a fast and a strong model.

Outcomes are qualities in [0, 1] (correctness, or a judge's normalised rating). A prompt is
labelled strong-better / tie / fast-better when the qualities differ by more than ``margin``.
The model is fitted on 80% of the data to calibrate thresholds on the other 20%, then
refitted on everything (the calibration is kept). When both prompt forms (multiple-choice and
open) have enough outcomes, each gets its own head over the shared TF-IDF and features: in
4-fold CV on RouteLLM's train half that raised GSM8K APGR from 0.628 to 0.650 with MMLU
unchanged (0.699 -> 0.700).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from portico.routing.complexity_model import ARTIFACT_VERSION, ComplexityModel
from portico.routing.evaluation import Outcomes, apgr, curve
from portico.routing.features import FEATURE_NAMES, FORMS, feature_matrix, prompt_form
from portico.routing.ngrams import DEFAULT_BUCKETS, HashedTfidf

F64 = npt.NDArray[np.float64]
MIN_PER_HEAD = 20  # prompts of a form needed before it gets its own head


def labels(weak: F64, strong: F64, margin: float = 0.1) -> npt.NDArray[np.intp]:
    """0 = fast better, 1 = tie, 2 = strong better."""
    diff = strong - weak
    return np.where(diff > margin, 2, np.where(diff < -margin, 0, 1)).astype(np.intp)


def _heads(texts: Sequence[str], y: npt.NDArray[np.intp]) -> npt.NDArray[np.intp] | None:
    """Each prompt's head (its form), or None for a single head when a form lacks data."""
    forms = np.array([prompt_form(t) for t in texts], dtype=np.intp)
    for f in range(len(FORMS)):
        mask = forms == f
        if mask.sum() < MIN_PER_HEAD or len(set(y[mask].tolist())) < 2:
            return None
    return forms


def _fit_head(x: Any, y: npt.NDArray[np.intp], c: float) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Weights (columns, 3) and bias (3,) of a 3-class logistic regression on ``x``."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=2000).fit(x, y)
    coef = np.zeros((x.shape[1], 3), dtype=np.float32)
    bias = np.full(3, -1e4, dtype=np.float32)  # a class absent from the data is never predicted
    if len(clf.classes_) == 2:  # binary: sklearn keeps one logit, for the second class
        coef[:, clf.classes_[1]] = clf.coef_[0]
        bias[clf.classes_[0]] = 0.0
        bias[clf.classes_[1]] = clf.intercept_[0]
    else:
        for row, cls in enumerate(clf.classes_):
            coef[:, cls] = clf.coef_[row]
            bias[cls] = clf.intercept_[row]
    return coef, bias


def _fit(
    texts: Sequence[str], y: npt.NDArray[np.intp], c: float, buckets: int, min_df: int = 1
) -> tuple[HashedTfidf, npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32], Any, Any]:
    import scipy.sparse as sp

    tfidf = HashedTfidf.fit(texts, buckets, min_df)
    feats = feature_matrix(list(texts))
    mean = feats.mean(axis=0)
    scale = feats.std(axis=0)
    scale[scale < 1e-6] = 1.0
    x = sp.hstack([tfidf.matrix(texts), sp.csr_matrix((feats - mean) / scale)]).tocsr()
    heads = _heads(texts, y)
    if heads is None:
        coef, bias = _fit_head(x, y, c)
    else:
        parts = [_fit_head(x[np.nonzero(heads == f)[0]], y[heads == f], c) for f in range(len(FORMS))]
        coef = np.concatenate([p[0] for p in parts], axis=1)
        bias = np.concatenate([p[1] for p in parts])
    return tfidf, coef[:buckets], coef[buckets:], bias, mean, scale


def train_complexity(
    texts: Sequence[str],
    weak: F64,
    strong: F64,
    *,
    c: float = 1.0,
    buckets: int = DEFAULT_BUCKETS,
    margin: float = 0.1,
    seed: int = 0,
    meta: dict[str, Any] | None = None,
) -> ComplexityModel:
    if len(texts) < 20:
        raise ValueError(f"need at least 20 prompts with outcomes to train (got {len(texts)})")
    y = labels(weak, strong, margin)
    if len(set(y.tolist())) < 2:
        raise ValueError("every prompt has the same outcome; there is nothing to learn")
    rng = np.random.default_rng(seed)
    val = rng.random(len(texts)) < 0.2
    fit_idx, val_idx = np.nonzero(~val)[0], np.nonzero(val)[0]

    def model_from(idx: npt.NDArray[np.intp]) -> ComplexityModel:
        tfidf, w_text, w_feat, bias, mean, scale = _fit([texts[int(i)] for i in idx], y[idx], c, buckets)
        empty = np.zeros(1, dtype=np.float32)
        return ComplexityModel(tfidf, w_text, w_feat, bias, mean, scale, empty, empty, empty)

    first = model_from(fit_idx)
    val_scores = first.scores([texts[int(i)] for i in val_idx])
    out = Outcomes.of(weak[val_idx], strong[val_idx])
    c_val = curve(val_scores, out)
    final = model_from(np.arange(len(texts)))
    final.ref_scores = np.quantile(val_scores, np.linspace(0, 1, 201)).astype(np.float32)
    grid = np.linspace(0, 1, 101)
    final.curve_share = grid.astype(np.float32)
    quality = np.interp(grid, c_val.share, c_val.quality) / max(c_val.strong_quality, 1e-9)
    final.curve_quality = quality.astype(np.float32)
    final.meta = {
        "version": ARTIFACT_VERSION,
        "features": list(FEATURE_NAMES),
        "buckets": buckets,
        "C": c,
        "margin": margin,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_train": len(texts),
        "validation_apgr": round(apgr(c_val), 4),
        **(meta or {}),
    }
    return final
