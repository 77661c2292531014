from pathlib import Path

import numpy as np
import pytest

from portico.errors import ConfigError
from portico.routing.complexity import ComplexityRouter, resolve_threshold
from portico.routing.complexity_model import ComplexityModel
from portico.routing.settings import ComplexityRoute, Threshold
from portico.routing.training import train_complexity

from .conftest import ctx_for

HARD = ["prove the theorem about eigenvalues of {}", "derive the integral of {} step by step"]
EASY = ["what colour is a {}", "say hello to {}"]


def _synthetic(n: int = 200) -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)  # not the trainer's validation seed
    texts, weak, strong = [], [], []
    for i in range(n):
        hard = i % 2 == 0
        texts.append((HARD if hard else EASY)[i % 4 // 2].format(f"thing{i}"))
        strong.append(1.0)
        weak.append(float(rng.random() < (0.2 if hard else 0.95)))
    return texts, np.array(weak), np.array(strong)


@pytest.fixture(scope="module")
def model() -> ComplexityModel:
    texts, weak, strong = _synthetic()
    return train_complexity(texts, weak, strong, buckets=1 << 12)


def test_model_learns_which_prompts_need_the_strong_model(model: ComplexityModel) -> None:
    hard = model.score("prove the theorem about eigenvalues of matrices")
    easy = model.score("what colour is a banana")
    assert hard > 0.6 > easy
    assert model.meta["validation_apgr"] > 0.6


def test_round_trip_keeps_scores(model: ComplexityModel, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    model.save(path)
    again = ComplexityModel.load(path)
    text = "derive the integral of x step by step"
    assert again.score(text) == pytest.approx(model.score(text), abs=1e-3)
    assert again.meta["version"] == "complexity-v3"
    assert len(again.trees) == len(model.trees) > 0


def test_missing_artifact_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="portico router train"):
        ComplexityModel.load(tmp_path / "nope.npz")


def test_thresholds_from_targets(model: ComplexityModel) -> None:
    t_all = resolve_threshold(Threshold(strong_share=1.0), model)
    t_none = resolve_threshold(Threshold(strong_share=0.0), model)
    assert t_all <= t_none
    assert resolve_threshold(Threshold(score=0.42), model) == 0.42
    # a cost budget at the fast model's own cost leaves nothing for the strong one
    assert resolve_threshold(Threshold(cost_budget=0.1), model, fast_cost_ratio=0.1) == t_none
    assert 0.0 <= resolve_threshold(Threshold(quality_floor=0.95), model) <= 1.0


def test_router_routes_and_explains(model: ComplexityModel) -> None:
    cfg = ComplexityRoute(name="auto", policy="complexity", fast="small", strong="big", threshold=Threshold(score=0.6))
    router = ComplexityRouter(cfg, model)
    hard = router.decide(ctx_for("prove the theorem about eigenvalues of a matrix"))
    assert hard.model == "big" and hard.reason.startswith("complexity score=") and "-> big" in hard.reason
    assert router.decide(ctx_for("say hello to bob")).model == "small"


def test_shipped_artifact_loads_and_scores() -> None:
    model = ComplexityModel.load()
    assert model.meta["split_salt"]
    s = model.score("What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer:")
    assert 0.0 <= s <= 1.0


def _two_forms(n: int = 240) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The same word means opposite things in the two prompt forms: only per-form heads learn it."""
    rng = np.random.default_rng(11)
    texts, weak, strong = [], [], []
    for i in range(n):
        word = "alpha" if i % 2 == 0 else "beta"
        multiple_choice = i % 4 < 2
        if multiple_choice:
            texts.append(f"Question {i} about {word}?\nA. one\nB. two\nC. three\nD. four\nAnswer:")
        else:
            texts.append(f"Question {i} about {word}, explain your reasoning.")
        hard = (word == "alpha") == multiple_choice
        strong.append(1.0)
        weak.append(float(rng.random() < (0.1 if hard else 0.95)))
    return texts, np.array(weak), np.array(strong)


def test_one_head_per_prompt_form(tmp_path: Path) -> None:
    texts, weak, strong = _two_forms()
    model = train_complexity(texts, weak, strong, buckets=1 << 12)
    assert model.heads == 2
    mc = "Question 9 about {}?\nA. one\nB. two\nC. three\nD. four\nAnswer:"
    open_ = "Question 9 about {}, explain your reasoning."
    assert model.score(mc.format("alpha")) > 0.6 > model.score(mc.format("beta"))
    assert model.score(open_.format("beta")) > 0.6 > model.score(open_.format("alpha"))
    model.save(tmp_path / "m.npz")
    assert ComplexityModel.load(tmp_path / "m.npz").score(mc.format("alpha")) == pytest.approx(
        model.score(mc.format("alpha")), abs=1e-3
    )


def test_a_single_form_gets_a_single_head(model: ComplexityModel) -> None:
    assert model.heads == 1  # the synthetic prompts are all open questions
