"""The cascade's answer-signal doubt model, the router-fit learning curve and RouterBench parsing."""

from __future__ import annotations

import numpy as np
import pytest

from portico.routing.answer_signals import SIGNALS, AnswerDoubt, answer_signals, fit_answer_doubt
from portico.routing.evaluation import Outcomes, cascade_curve, curve
from portico.routing.fitting import fixed_scorer, learning_curve
from portico.routing.routerbench import question
from portico.routing.settings import RoutingSettings
from portico.routing.stage import RoutingStage

from .conftest import ctx_for, reply
from .test_stage import Canned, terminal

PROMPT = "Tom has 3 boxes of 12 eggs and eats 5. How many eggs are left?"
GOOD = "3 boxes hold 3 * 12 = <<3*12=36>>36 eggs.\nHe eats 5, so 36 - 5 = <<36-5=31>>31 are left.\n#### 31"
BAD = "3 boxes hold 3 * 12 = <<3*12=34>>34 eggs. However, maybe he ate roughly 5.5, so about 28.5 remain?"


def test_signals_check_the_answers_own_arithmetic() -> None:
    good = dict(zip(SIGNALS, answer_signals(PROMPT, GOOD), strict=True))
    bad = dict(zip(SIGNALS, answer_signals(PROMPT, BAD), strict=True))
    assert good["final_marker"] == 1.0 and bad["final_marker"] == 0.0
    assert good["wrong_steps"] == 0.0 and good["checked_steps"] >= 2
    assert bad["wrong_steps"] >= 1.0 and bad["right_step_share"] < 1.0
    assert bad["hedges"] >= 2.0
    # Only digits and operators are ever evaluated.
    assert answer_signals(PROMPT, "<<__import__('os')=1>>")[SIGNALS.index("checked_steps")] == 0.0


def test_shipped_doubt_model_doubts_the_broken_answer_more() -> None:
    doubt = AnswerDoubt.load()
    assert 0.0 < doubt.default_threshold < 1.0
    assert doubt.doubt(PROMPT, BAD) > doubt.doubt(PROMPT, GOOD)


def test_fit_answer_doubt_learns_and_round_trips(tmp_path) -> None:
    prompts = [PROMPT] * 40
    answers = [GOOD if i % 2 else BAD for i in range(40)]
    model = fit_answer_doubt(prompts, answers, [i % 2 == 0 for i in range(40)], meta={"threshold_at_95": 0.4})
    assert model.doubt(PROMPT, BAD) > 0.5 > model.doubt(PROMPT, GOOD)
    model.save(tmp_path / "d.json")
    again = AnswerDoubt.load(tmp_path / "d.json")
    assert again.doubt(PROMPT, BAD) == pytest.approx(model.doubt(PROMPT, BAD))
    assert again.default_threshold == 0.4
    with pytest.raises(ValueError, match="both right and wrong"):
        fit_answer_doubt(prompts[:2], answers[:2], [True, True])


def test_cascade_curve_pays_for_every_weak_answer() -> None:
    out = Outcomes.of([0, 1, 1, 0], [1, 1, 1, 1], weak_cost=1.0, strong_cost=10.0)
    doubt = [0.9, 0.1, 0.2, 0.8]
    plain, cascade = curve(doubt, out), cascade_curve(doubt, out)
    assert plain.cost[0] == cascade.cost[0] == 4.0
    assert cascade.cost[2] == plain.cost[2] + 2.0  # the two escalated weak answers were bought too
    assert list(cascade.quality) == list(plain.quality)


def test_learning_curve_skips_sizes_without_enough_held_rows() -> None:
    rng = np.random.default_rng(0)
    weak = rng.integers(0, 2, 400).astype(float)
    out = Outcomes.of(weak, np.ones(400))
    oracle = fixed_scorer(1.0 - weak)  # scores the rows the weak model fails highest
    points = learning_curve(oracle, out, sizes=(50, 200, 350), repeats=2, min_test=100)
    assert [p.n for p in points] == [50, 200]
    assert all(p.apgr > 0.7 for p in points)  # the oracle: PGR 1 once half the rows go strong


def test_routerbench_question_is_the_last_block() -> None:
    cell = repr(["Q1?\nA) x\nAnswer:\nA\n\nWhich is larger?\nA) 2\nB) 3\nAnswer:"])
    assert question(cell) == "Which is larger?\nA) 2\nB) 3\nAnswer:"


async def test_cascade_escalates_a_doubtful_answer() -> None:
    route = {
        "name": "careful",
        "policy": "cascade",
        "fast": "small",
        "strong": "big",
        "check": {"max_answer_doubt": AnswerDoubt.load().doubt(PROMPT, GOOD) + 1e-6},
    }
    settings = RoutingSettings.model_validate({"routes": [route]})
    ok = Canned({"small": reply("small", GOOD), "big": reply("big", "#### 31")})
    ctx = ctx_for(PROMPT, model="careful")
    await RoutingStage(settings, call_model=ok)(ctx, terminal)
    assert [m for m, _ in ok.calls] == ["small"]
    doubtful = Canned({"small": reply("small", BAD), "big": reply("big", "#### 31")})
    ctx2 = ctx_for(PROMPT, model="careful")
    await RoutingStage(settings, call_model=doubtful)(ctx2, terminal)
    assert [m for m, _ in doubtful.calls] == ["small", "big"]
    assert ctx2.state["routing"]["check"].startswith("answer doubt")


def test_a_long_digit_run_in_an_answer_is_cheap() -> None:
    """A binary literal in generated code took the arithmetic regex 49 s of CPU (backtracking)."""
    import time

    from portico.routing.answer_signals import answer_signals

    answer = "def f(num):\n    return num & 0b" + "10" * 100 + "\n# 2 * 3 = 6, 1,000 + 0.5 = 1,000.5"
    started = time.process_time()
    signals = answer_signals("Write a function that sets the even bits.", answer)
    assert time.process_time() - started < 0.5
    assert signals[3] == 2.0 and signals[4] == 0.0  # both steps found and right


def test_answer_scorer_scores_like_the_fitted_doubt_model() -> None:
    """The learning curve scores held rows from signals computed once; it must agree with the
    model the cascade would load."""
    from portico.routing.fitting import answer_scorer

    rng = np.random.default_rng(3)
    answers = [GOOD if rng.random() < 0.6 else BAD for _ in range(120)]
    answers = [a.replace("31", str(int(rng.integers(20, 40)))) for a in answers]
    weak = np.array([1.0 if a.startswith("3 boxes hold 3 * 12 = <<3*12=36>>") else 0.0 for a in answers])
    out = Outcomes.of(weak, np.ones(len(answers)))
    prompts = [PROMPT] * len(answers)
    fit, rest = list(range(80)), list(range(80, 120))
    fast = answer_scorer(prompts, answers, out)(fit, rest)
    model = fit_answer_doubt([prompts[i] for i in fit], [answers[i] for i in fit], [weak[i] < 0.5 for i in fit])
    slow = np.array([model.doubt(prompts[i], answers[i]) for i in rest])
    assert np.allclose(fast, slow, atol=1e-9)
    assert apgr_of(fast, out.take(np.array(rest))) > 0.6


def apgr_of(scores: np.ndarray, out: Outcomes) -> float:
    from portico.routing.evaluation import apgr

    return apgr(cascade_curve(scores, out))
