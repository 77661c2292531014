"""``portico router fit``: a router learned from the user's own paired outcomes, with the
learning curve that says whether it beats the shipped prior yet.

Paired outcomes are prompts answered by both models with a quality for each (records of
``portico eval run`` against each model, or logged cascade outcomes). Two learners:

- the *prompt* router (:func:`fit_prompt_router`): a ridge regression of the strong model's
  advantage on the text features (and, when inner cross-validation says so, hashed word
  n-grams), blended with the general prior (``prior.py``) at a weight chosen by that same
  inner cross-validation on the user's rows, so a few hundred rows can only move it as far
  as they earn (with 50 rows it mostly stays the prior);
- the *answer* router, when the fast model's answers are logged: the cascade's doubt model
  (``answer_signals``) refitted on the user's answers.

The learning curve refits each on ``n`` random examples and scores the rest (APGR), a few
times per ``n``; the fitted router is kept only if its curve beats the prior at the
largest ``n`` measured (else the prior stays, and the report says so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from portico.routing.complexity_model import ComplexityModel
from portico.routing.evaluation import Outcomes, apgr, cascade_curve, curve
from portico.routing.features import feature_matrix
from portico.routing.ngrams import HashedTfidf
from portico.routing.prior import LinearScore, as_complexity_model, set_quality_curve

F64 = npt.NDArray[np.float64]
Scorer = Callable[[Sequence[int], Sequence[int]], F64]  # (fit rows, score rows) -> scores of score rows

SIZES = (50, 100, 200, 500, 1000)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    n: int
    apgr: float
    low: float
    high: float


def learning_curve(
    scorer: Scorer,
    out: Outcomes,
    *,
    sizes: Sequence[int] = SIZES,
    repeats: int = 3,
    min_test: int = 100,
    cascade: bool = False,
    seed: int = 0,
) -> list[CurvePoint]:
    """APGR of ``scorer`` fitted on ``n`` random rows and scored on the others (at least
    ``min_test`` of them), ``repeats`` times per ``n``; sizes that leave too few rows are
    skipped. ``cascade`` scores the curve of a cascade (the weak answer always paid)."""
    rng = np.random.default_rng(seed)
    total = len(out)
    points: list[CurvePoint] = []
    for n in sizes:
        if total - n < min_test:
            break
        values = []
        for _ in range(repeats):
            perm = rng.permutation(total)
            fit, rest = perm[:n], perm[n:]
            try:
                scores = scorer(fit.tolist(), rest.tolist())
            except ValueError:
                continue  # a draw with one outcome only: nothing to learn from
            held = out.take(rest)
            values.append(apgr(cascade_curve(scores, held) if cascade else curve(scores, held)))
        if values:
            points.append(CurvePoint(n, float(np.mean(values)), float(np.min(values)), float(np.max(values))))
    return points


def prompt_scorer(texts: Sequence[str], out: Outcomes, prior: LinearScore) -> Scorer:
    """:func:`fit_prompt_router` fitted on the fit rows, scoring the held rows."""
    feats = feature_matrix(list(texts)).astype(np.float64)

    def score(fit: Sequence[int], rest: Sequence[int]) -> F64:
        idx = np.asarray(fit)
        model, _ = fit_prompt_router([texts[i] for i in fit], out.weak[idx], out.strong[idx], prior, feats=feats[idx])
        return linear_scores(model, feats[np.asarray(rest)], [texts[i] for i in rest])

    return score


def linear_scores(model: ComplexityModel, feats: F64, texts: Sequence[str]) -> F64:
    """The ranking score ``u`` of a one-head linear model on many prompts at once (the same
    order as ``model.scores``, without recomputing the features per prompt)."""
    z = (feats - model.feat_mean.astype(np.float64)) / model.feat_scale.astype(np.float64)
    u: F64 = z @ (model.w_feat[:, 2] - model.w_feat[:, 0]).astype(np.float64)
    if np.any(model.w_text):
        w = (model.w_text[:, 2] - model.w_text[:, 0]).astype(np.float64)
        u = u + np.asarray(model.tfidf.matrix(texts) @ w).ravel()  # type: ignore[operator]
    return u


def answer_scorer(texts: Sequence[str], answers: Sequence[str], out: Outcomes) -> Scorer:
    """The answer-doubt model refitted on the fit rows, scoring the held rows' fast answers (the
    signals are computed once: they do not depend on the fit)."""
    from portico.routing.answer_signals import answer_signals, fit_answer_doubt

    signals = np.array([answer_signals(t, a) for t, a in zip(texts, answers, strict=True)], dtype=np.float64)

    def score(fit: Sequence[int], rest: Sequence[int]) -> F64:
        idx = np.asarray(fit)
        model = fit_answer_doubt(
            [texts[i] for i in fit],
            [answers[i] for i in fit],
            [bool(out.weak[i] < 0.5) for i in fit],
            signals=signals[idx],
        )
        z = (signals[np.asarray(rest)] - np.array(model.mean)) / np.array(model.scale) @ np.array(model.weights)
        doubt: F64 = 1.0 / (1.0 + np.exp(-np.clip(z + model.bias, -50.0, 50.0)))
        return doubt

    return score


def fixed_scorer(scores: F64) -> Scorer:
    """A router that learns nothing (the prior, length): its scores on the held rows."""
    return lambda fit, rest: scores[np.asarray(rest)]


@dataclass(frozen=True, slots=True)
class FitChoice:
    """What inner cross-validation on the user's rows chose, and its score there."""

    alpha: float
    blend: float  # weight of the fitted score against the prior's (0: the prior alone)
    words: bool  # whether hashed word n-grams were used beside the dense features
    cv_apgr: float


ALPHAS = (1.0, 10.0, 100.0)
BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)
FIT_BUCKETS = 1 << 15


def _zscore(u: F64) -> F64:
    sd = float(np.std(u))
    return (u - float(np.mean(u))) / (sd if sd > 1e-12 else 1.0)


def _dual_ridge(kernel: F64, y: F64, alpha: float) -> F64:
    """Dual coefficients of a ridge regression (no intercept: ``y`` is centred by the caller)."""
    out: F64 = np.asarray(np.linalg.solve(kernel + alpha * np.eye(kernel.shape[0]), y), dtype=np.float64)
    return out


def fit_prompt_router(
    texts: Sequence[str],
    weak: F64,
    strong: F64,
    prior: LinearScore,
    *,
    folds: int = 4,
    seed: int = 0,
    feats: F64 | None = None,
) -> tuple[ComplexityModel, FitChoice]:
    """The prompt router fitted on the user's paired outcomes, falling back to ``prior``.

    A ridge regression of the strong model's advantage (``strong - weak``) on the standardised
    text features, optionally with hashed word n-grams; its score is blended with the prior's
    (both z-scored). The ridge strength, the n-gram switch and the blend weight are chosen by
    ``folds``-fold cross-validation on these rows only (APGR of the blended out-of-fold scores),
    so with few or uninformative rows the blend goes to 0 and the router is the prior. The
    result is one linear score, stored as a one-head ComplexityModel (``prior.as_complexity_model``).
    """
    if len(texts) < 20:
        raise ValueError(f"need at least 20 prompts with outcomes to fit (got {len(texts)})")
    y = np.asarray(strong, dtype=np.float64) - np.asarray(weak, dtype=np.float64)
    if np.ptp(y) == 0:
        raise ValueError("every prompt has the same outcome; there is nothing to learn")
    if feats is None:
        feats = feature_matrix(list(texts)).astype(np.float64)
    mean, scale = feats.mean(axis=0), feats.std(axis=0)
    scale[scale < 1e-9] = 1.0
    dense = (feats - mean) / scale / np.sqrt(feats.shape[1])  # unit-ish row norm, like a TF-IDF row
    tfidf = HashedTfidf.fit(texts, FIT_BUCKETS)
    words: Any = tfidf.matrix(texts)  # scipy CSR
    kernels = {False: dense @ dense.T, True: dense @ dense.T + np.asarray((words @ words.T).todense())}
    prior_u = prior.of(feats)
    out = Outcomes.of(weak, strong)
    rng = np.random.default_rng(seed)
    parts = np.array_split(rng.permutation(len(texts)), folds)
    best: FitChoice | None = None
    best_scores = prior_u
    for use_words, kernel in kernels.items():
        for alpha in ALPHAS:
            oof = np.zeros(len(texts))
            for k in range(folds):
                test = parts[k]
                train = np.concatenate([parts[j] for j in range(folds) if j != k])
                ytr = y[train] - y[train].mean()
                oof[test] = kernel[np.ix_(test, train)] @ _dual_ridge(kernel[np.ix_(train, train)], ytr, alpha)
            for blend in BLENDS:
                scores = np.zeros(len(texts))
                for k in range(folds):  # z-scores per fold: the scale a fold's model would have
                    test = parts[k]
                    scores[test] = (1 - blend) * _zscore(prior_u[test]) + blend * _zscore(oof[test])
                value = apgr(curve(scores, out))
                if best is None or value > best.cv_apgr + 1e-9:
                    best, best_scores = FitChoice(alpha, blend, use_words, value), scores
    assert best is not None
    dual = _dual_ridge(kernels[best.words], y - y.mean(), best.alpha)
    fitted_u = kernels[best.words] @ dual
    sd_fit = float(np.std(fitted_u)) or 1.0
    sd_prior = float(np.std(prior_u)) or 1.0
    # The blend, as one linear score in the user's standardised features (+ word weights).
    coef = (1 - best.blend) * prior.coef * (scale / prior.scale) / sd_prior
    coef += best.blend * (dense.T @ dual) / np.sqrt(feats.shape[1]) / sd_fit
    w_words = best.blend * np.asarray(words.T @ dual).ravel() / sd_fit if best.words else None
    model = as_complexity_model(
        LinearScore(mean, scale, coef),
        feats,
        words=(tfidf, w_words) if w_words is not None else None,
        reference_u=(1 - best.blend) * prior_u / sd_prior + best.blend * fitted_u / sd_fit,
        meta={"fitted_by": "portico router fit", "alpha": best.alpha, "blend": best.blend, "words": best.words},
    )
    set_quality_curve(model, best_scores, out)  # out-of-fold: what a quality_floor can expect
    return model, best
