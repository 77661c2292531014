"""Answer groups: in an FAQ many stored questions share one answer, so the semantic tier can
choose between answers instead of judging one (question, question) pair at a time.

Entries whose stored answers are identical (the hash of the whitespace-normalised answer)
form a group, unless the request named its group (``x-portico-cache-group``, or ``portico
cache warm``): then the operator's name is the group. A multinomial logistic regression over
the MiniLM vectors of a scope's stored questions, labelled by group, names the group of a
new question. Its answer is served only when the model's probability clears a threshold the
cache calibrates on its own entries:
k-fold cross-validation over the stored questions, the loosest threshold whose held-out
wrong-answer rate (one-sided 95% Wilson upper bound) stays under ``max_wrong_rate``. A
held-out question whose group has no other member counts as wrong when served, which is
how the calibration sees questions the FAQ does not cover. Groups too small to serve
(one-off answers of open-ended traffic, mostly) are fitted as one class, ``OTHER``: the
model then learns where the FAQ ends, and its size stays that of the FAQ.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import orjson

from portico.cache.settings import AnswerGroupSettings
from portico.types import ChatResponse

Matrix = npt.NDArray[np.float32]
_Z95 = 1.6448536269514722  # one-sided 95%
OTHER = "\x00other"  # the class of every group too small to serve
_CHUNK = 512  # held-out rows per similarity block: bounds the fold matmul to ~40 MB at 20k entries


def answer_group(response: ChatResponse) -> str:
    """The group of a stored answer: equal answer text (whitespace aside) and tool calls, equal group.
    Tool call ids are left out: they differ on every call."""
    parts: list[str] = []
    for choice in response.choices:
        parts.append(" ".join((choice.message.content or "").split()))
        for call in choice.message.tool_calls or []:
            parts.append(orjson.dumps(call.function.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS).decode())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def operator_group(name: str) -> str:
    """The group of an answer stored with ``x-portico-cache-group: name``: the operator's name,
    whatever the answer's text (an LLM's answers to one FAQ differ in wording). The prefix
    keeps a name apart from the answer hashes (which never contain ':')."""
    return "name:" + name


@dataclass(frozen=True, slots=True)
class GroupModel:
    """A scope's fitted group model and its calibrated serving threshold."""

    groups: tuple[str, ...]  # servable groups and OTHER
    weights: Matrix  # (groups, dim)
    bias: Matrix  # (groups,)
    threshold: float  # math.inf when no threshold met the target on held-out entries
    servable: frozenset[str]  # groups with at least min_group_entries stored questions (not OTHER)
    entries: int  # stored questions it was fitted on
    held_out_coverage: float  # share of held-out questions served at the threshold
    held_out_wrong_rate: float  # wrong answers among them

    def predict(self, vector: Matrix) -> tuple[str, float]:
        """The most probable group and its probability."""
        scores = self.weights @ vector + self.bias
        probs = np.exp(scores - scores.max())
        best = int(probs.argmax())
        return self.groups[best], float(probs[best] / probs.sum())


def wilson_upper(wrong: npt.NDArray[np.float64], served: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """One-sided 95% upper bound of a wrong rate observed as ``wrong`` of ``served``."""
    p = wrong / served
    z2 = _Z95 * _Z95
    centre = p + z2 / (2 * served)
    spread = _Z95 * np.sqrt(p * (1 - p) / served + z2 / (4 * served * served))
    bound: npt.NDArray[np.float64] = (centre + spread) / (1 + z2 / served)
    return bound


def calibrate(confidence: npt.NDArray[np.float64], correct: npt.NDArray[np.bool_], target: float) -> float:
    """The lowest confidence whose served set (confidence >= it) keeps the bound under ``target``."""
    if not len(confidence):
        return math.inf
    order = np.argsort(-confidence, kind="stable")
    served = np.arange(1, len(order) + 1, dtype=np.float64)
    wrong = np.cumsum(~correct[order]).astype(np.float64)
    ok = np.flatnonzero(wilson_upper(wrong, served) <= target)
    return math.inf if not len(ok) else float(confidence[order][ok[-1]])


def supported(
    predicted: npt.NDArray[np.intp], neighbour_labels: npt.NDArray[np.intp], neighbour_sims: Matrix, floor: float
) -> npt.NDArray[np.bool_]:
    """Whether a stored question of the predicted group is among the nearest ones, at ``floor`` or above."""
    hit: npt.NDArray[np.bool_] = ((neighbour_labels == predicted[:, None]) & (neighbour_sims >= floor)).any(axis=1)
    return hit


def fit_group_model(
    vectors: Matrix, groups: Sequence[str], settings: AnswerGroupSettings, *, seed: int = 0
) -> GroupModel | None:
    """Fit and calibrate on one scope's stored questions (CPU-bound: run it off the event loop).
    None when there is nothing to choose between (fewer than two groups)."""
    rng = np.random.default_rng(seed)
    labels_all = np.asarray(groups)
    if len(labels_all) > settings.max_fit_entries:
        keep = np.sort(rng.choice(len(labels_all), settings.max_fit_entries, replace=False))
        vectors, labels_all = vectors[keep], labels_all[keep]
    names, y = np.unique(labels_all, return_inverse=True)
    large = np.bincount(y, minlength=len(names)) >= settings.min_group_entries
    labels_all = np.where(large[y], labels_all, OTHER)
    names, y = np.unique(labels_all, return_inverse=True)
    servable = names != OTHER
    if len(names) < 2 or not servable.any():
        return None
    n = len(y)
    fold = rng.permutation(n) % settings.folds
    confidence = np.zeros(n)
    correct = np.zeros(n, dtype=bool)
    eligible = np.zeros(n, dtype=bool)
    for f in range(settings.folds):
        train, held = fold != f, fold == f
        if len(np.unique(y[train])) < 2 or not held.any():
            continue
        weights, bias, present = _fit(vectors[train], y[train], settings.regularization)
        scores = vectors[held] @ weights.T + bias
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        predicted = present[probs.argmax(axis=1)]
        confidence[held] = probs.max(axis=1)
        correct[held] = predicted == y[held]
        near_labels, near_sims = _neighbours(vectors[held], vectors[train], y[train], settings.neighbours)
        eligible[held] = servable[predicted] & supported(predicted, near_labels, near_sims, settings.min_similarity)
    threshold = calibrate(confidence[eligible], correct[eligible], settings.max_wrong_rate)
    served = eligible & (confidence >= threshold)
    weights, bias, present = _fit(vectors, y, settings.regularization)
    return GroupModel(
        groups=tuple(str(names[i]) for i in present),
        weights=weights,
        bias=bias,
        threshold=threshold,
        servable=frozenset(str(g) for g in names[servable]),
        entries=n,
        held_out_coverage=float(served.mean()),
        held_out_wrong_rate=float((~correct[served]).mean()) if served.any() else 0.0,
    )


def _fit(x: Matrix, y: npt.NDArray[np.intp], c: float) -> tuple[Matrix, Matrix, npt.NDArray[np.intp]]:
    """Softmax weights (classes, dim), bias and the class indices they are for."""
    # scikit-learn is heavy to import and only needed once a scope is large enough to fit.
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # a background refit must not take every core from the gateway
        model = LogisticRegression(C=c, max_iter=500, tol=1e-3).fit(x, y)
    coef = model.coef_.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if coef.shape[0] == 1:  # two classes: sigmoid(z) is the softmax of (-z/2, z/2)
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    present: npt.NDArray[np.intp] = model.classes_.astype(np.intp)
    return coef, intercept, present


def _neighbours(
    queries: Matrix, stored: Matrix, labels: npt.NDArray[np.intp], k: int
) -> tuple[npt.NDArray[np.intp], Matrix]:
    """Labels and cosines of each query's ``k`` nearest stored questions (the live search's view)."""
    k = min(k, len(stored))
    out_labels = np.zeros((len(queries), k), dtype=np.intp)
    out_sims = np.zeros((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), _CHUNK):
        sims = queries[start : start + _CHUNK] @ stored.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < sims.shape[1] else np.argsort(-sims, axis=1)
        out_labels[start : start + len(sims)] = labels[top]
        out_sims[start : start + len(sims)] = np.take_along_axis(sims, top, axis=1)
    return out_labels, out_sims
