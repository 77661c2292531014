"""The general prior (a linear difficulty score stored as a ComplexityModel) and the fitter
that starts from it: planted signals must be found, and the stored model must rank exactly as
the linear score it came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from portico.routing.complexity_model import ComplexityModel
from portico.routing.evaluation import Outcomes, apgr, curve
from portico.routing.features import feature_matrix
from portico.routing.fitting import fit_prompt_router, linear_scores
from portico.routing.prior import (
    LENGTH_FEATURE,
    LinearScore,
    Source,
    as_complexity_model,
    fit_difficulty,
    linear_part,
    load_general_prior,
    with_length,
)
from portico.routing.stage import load_model

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"]


def _prompt(rng: np.random.Generator, questions: int) -> str:
    words = " ".join(rng.choice(WORDS, size=int(rng.integers(5, 15))))
    return words + " ?" * questions


def _source(name: str, n: int, seed: int, models: int = 6) -> Source:
    """Prompts whose difficulty (share of models failing) grows with their number of '?'."""
    rng = np.random.default_rng(seed)
    qs = rng.integers(0, 5, n)
    texts = [_prompt(rng, int(q)) for q in qs]
    p_fail = 0.1 + 0.18 * qs
    correct = (rng.random((n, models)) > p_fail[:, None]).astype(np.float64)
    return Source(name, texts, tuple(f"m{i}" for i in range(models)), correct)


def test_difficulty_learned_on_other_sources_ranks_a_new_one() -> None:
    train = [_source("a", 300, 1), _source("b", 300, 2)]
    held = _source("c", 400, 3)
    score = fit_difficulty(train, alpha=1.0)
    weak, strong = held.correct[:, 0], np.ones(len(held.texts))
    out = Outcomes.of(weak, strong)
    ideal = apgr(curve(np.array([t.count("?") for t in held.texts], dtype=np.float64), out))
    assert ideal > 0.6
    assert apgr(curve(score.of(feature_matrix(held.texts)), out)) > ideal - 0.02
    assert apgr(curve(-score.of(feature_matrix(held.texts)), out)) < 0.4


def test_skipping_every_model_of_a_source_drops_it() -> None:
    only = _source("a", 50, 1, models=2)
    assert only.difficulty(skip_models=("m0", "m1")) is None
    with pytest.raises(ValueError):
        fit_difficulty([only], skip_models=("m0", "m1"))


def test_stored_model_ranks_like_its_linear_score(tmp_path: Path) -> None:
    train = [_source("a", 300, 1), _source("b", 300, 2)]
    feats = np.vstack([feature_matrix(s.texts) for s in train]).astype(np.float64)
    score = with_length(fit_difficulty(train), 0.5, feats)
    model = as_complexity_model(score, feats)
    model.save(tmp_path / "p.npz")
    loaded = ComplexityModel.load(tmp_path / "p.npz")
    held = _source("c", 200, 3).texts
    u = score.of(feature_matrix(held))
    stored = loaded.scores(held)
    assert np.corrcoef(np.argsort(np.argsort(u)), np.argsort(np.argsort(stored)))[0, 1] > 0.999
    back = linear_part(loaded)
    assert back is not None
    assert np.corrcoef(back.of(feature_matrix(held)), u)[0, 1] > 0.999
    # thresholds still mean traffic shares: about half the reference prompts score above the median
    ref = loaded.scores([t for s in train for t in s.texts])
    assert np.mean(ref > loaded.share_threshold(0.5)) == pytest.approx(0.5, abs=0.05)


def test_length_weight_one_is_the_length_router() -> None:
    train = [_source("a", 100, 1)]
    feats = feature_matrix(train[0].texts).astype(np.float64)
    score = with_length(fit_difficulty(train), 1.0, feats)
    assert np.count_nonzero(score.coef) == 1 and score.coef[LENGTH_FEATURE] == 1.0


def _words_outcomes(n: int, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The fast model fails exactly the prompts that mention 'zorblat', which no prior knows."""
    rng = np.random.default_rng(seed)
    texts, weak = [], []
    for i in range(n):
        hard = rng.random() < 0.4
        words = list(rng.choice(WORDS, size=8))
        if hard:
            words[int(rng.integers(0, 8))] = "zorblat"
        texts.append(" ".join(words) + f" case {i}")
        weak.append(0.0 if hard else 1.0)
    return texts, np.array(weak), np.ones(n)


def _flat_prior() -> LinearScore:
    dims = feature_matrix(["x"]).shape[1]
    coef = np.zeros(dims)
    coef[LENGTH_FEATURE] = 1.0
    return LinearScore(np.zeros(dims), np.ones(dims), coef)


def test_fitter_learns_a_word_signal_the_prior_lacks() -> None:
    texts, weak, strong = _words_outcomes(400, 0)
    model, choice = fit_prompt_router(texts[:300], weak[:300], strong[:300], _flat_prior())
    assert choice.words and choice.blend > 0.5
    held = Outcomes.of(weak[300:], strong[300:])
    scores = model.scores(texts[300:])
    oracle = apgr(curve(held.strong - held.weak, held))
    assert apgr(curve(scores, held)) > oracle - 0.02
    assert apgr(curve(_flat_prior().of(feature_matrix(texts[300:]).astype(np.float64)), held)) < oracle - 0.1
    fast = linear_scores(model, feature_matrix(texts[300:]).astype(np.float64), texts[300:])
    assert np.corrcoef(np.argsort(np.argsort(fast)), np.argsort(np.argsort(scores)))[0, 1] > 0.999


def test_fitter_keeps_the_prior_when_the_rows_are_noise() -> None:
    rng = np.random.default_rng(1)
    n = 200
    texts = [_prompt(rng, int(q)) for q in rng.integers(0, 5, n)]
    weak = (rng.random(n) < 0.5).astype(np.float64)
    strong = np.maximum(weak, (rng.random(n) < 0.5).astype(np.float64))
    _, choice = fit_prompt_router(texts, weak, strong, _flat_prior())
    # noise can win a fold by luck, but never all the way to ignoring the prior with 200 rows
    assert choice.blend < 1.0


def test_fitter_refuses_rows_without_a_difference() -> None:
    texts, _weak, strong = _words_outcomes(40, 2)
    with pytest.raises(ValueError, match="nothing to learn"):
        fit_prompt_router(texts, strong, strong, _flat_prior())


def test_general_prior_is_packaged_and_linear() -> None:
    prior = load_general_prior()
    assert prior.meta["kind"] == "general-prior"
    assert linear_part(prior) is not None
    assert load_model("general").meta == prior.meta
    # longer, multi-step prompts rank above a one-liner, as the held-out CV found
    short, long = (
        "Name a colour.",
        (
            "A train leaves at 3 pm at 60 km/h and another at 4 pm at 80 km/h on the same track. "
            "Explain step by step when the second catches up, and list every assumption you make."
        ),
    )
    s = prior.scores([short, long])
    assert s[1] > s[0]


def test_a_complexity_route_can_use_the_general_prior() -> None:
    from portico.routing.settings import RoutingSettings
    from portico.routing.stage import RoutingStage

    from .conftest import ctx_for

    route = {"name": "auto", "policy": "complexity", "fast": "small", "strong": "big", "artifact": "general"}
    stage = RoutingStage(RoutingSettings.model_validate({"routes": [{**route, "threshold": {"strong_share": 0.3}}]}))
    router = stage.routers["auto"]
    short_route = router.decide(ctx_for("Hi."))
    long_route = router.decide(ctx_for("Explain, step by step, " + "why the tides follow the moon " * 30))
    assert (short_route.model, long_route.model) == ("small", "big")
