"""``portico router fit``: a router learned from the user's own paired outcomes, with the
learning curve that says whether it beats the shipped prior yet.

Paired outcomes are prompts answered by both models with a quality for each (records of
``portico eval run`` against each model, or logged cascade outcomes). Two learners:

- the *prompt* router: the complexity model (``training.train_complexity``, regression only:
  the trees need more data than a user has) fitted on the user's prompts;
- the *answer* router, when the fast model's answers are logged: the cascade's doubt model
  (``answer_signals``) refitted on the user's answers.

The learning curve refits each on ``n`` random examples and scores the rest (APGR), a few
times per ``n``; the fitted router is kept only if its curve beats the prior at the
largest ``n`` measured (else the prior stays, and the report says so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from portico.routing.evaluation import Outcomes, apgr, cascade_curve, curve

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


def prompt_scorer(texts: Sequence[str], out: Outcomes) -> Scorer:
    from portico.routing.training import train_complexity

    def score(fit: Sequence[int], rest: Sequence[int]) -> F64:
        idx = np.asarray(fit)
        model = train_complexity([texts[i] for i in fit], out.weak[idx], out.strong[idx], tree_weight=0.0)
        return model.scores([texts[i] for i in rest]).astype(np.float64)

    return score


def answer_scorer(texts: Sequence[str], answers: Sequence[str], out: Outcomes) -> Scorer:
    from portico.routing.answer_signals import fit_answer_doubt

    def score(fit: Sequence[int], rest: Sequence[int]) -> F64:
        model = fit_answer_doubt(
            [texts[i] for i in fit], [answers[i] for i in fit], [bool(out.weak[i] < 0.5) for i in fit]
        )
        return np.array([model.doubt(texts[i], answers[i]) for i in rest], dtype=np.float64)

    return score


def fixed_scorer(scores: F64) -> Scorer:
    """A router that learns nothing (the prior, length): its scores on the held rows."""
    return lambda fit, rest: scores[np.asarray(rest)]
