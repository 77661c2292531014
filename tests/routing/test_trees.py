from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from portico.routing.complexity_model import ComplexityModel
from portico.routing.features import FEATURE_NAMES, text_features
from portico.routing.training import train_complexity
from portico.routing.trees import TreeEnsemble

KW = {"max_iter": 30, "learning_rate": 0.1, "max_depth": 3, "min_samples_leaf": 10, "early_stopping": False}


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def test_trees_reproduce_sklearn_probabilities_per_head() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    three = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    binary = np.where(x[:, 2] > 0, 2, 0)  # classes 0 and 2 only: one raw score per round
    with threadpool_limits(1, user_api="openmp"):  # idle OpenMP workers spin on a busy host
        first = HistGradientBoostingClassifier(**KW).fit(x[:200], three[:200])
        second = HistGradientBoostingClassifier(**KW).fit(x[200:], binary[200:])
    trees = TreeEnsemble.from_sklearn([first, second])
    assert len(trees) == 30 * 3 + 30
    for row in x[:40]:
        assert _softmax(trees.logits(row, 0)) == pytest.approx(first.predict_proba(row[None])[0], abs=1e-5)
        p = _softmax(trees.logits(row, 1))
        assert p[[0, 2]] == pytest.approx(second.predict_proba(row[None])[0], abs=1e-5)
        assert p[1] < 1e-6  # a class the head never saw


def test_a_head_without_trees_adds_nothing() -> None:
    trees = TreeEnsemble.from_sklearn([None])
    assert len(trees) == 0 and not trees.covers(0)
    assert trees.logits(np.zeros(4, dtype=np.float32), 0).tolist() == [0.0, 0.0, 0.0]


def _numeric(n: int = 240) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Hardness hidden in a dense feature only (many large numbers), not in the words."""
    rng = np.random.default_rng(5)
    texts, weak = [], []
    for i in range(n):
        hard = i % 2 == 0
        numbers = " and ".join(str(int(rng.integers(10_000, 99_999))) for _ in range(6)) if hard else "two and three"
        texts.append(f"Tom has {numbers} apples. How many apples does he have?")
        weak.append(float(rng.random() < (0.1 if hard else 0.95)))
    return texts, np.array(weak), np.ones(n)


def test_model_with_trees_round_trips(tmp_path: Path) -> None:
    texts, weak, strong = _numeric()
    model = train_complexity(texts, weak, strong, buckets=1 << 10, tree_weight=0.5)
    assert len(model.trees) > 0 and model.tree_weight == 0.5
    hard = "Tom has 12345 and 67890 and 13579 and 24680 and 11111 and 22222 apples. How many apples does he have?"
    easy = "Tom has two and three apples. How many apples does he have?"
    assert model.score(hard) > model.score(easy) + 0.2
    model.save(tmp_path / "m.npz")
    again = ComplexityModel.load(tmp_path / "m.npz")
    assert again.tree_weight == 0.5
    assert again.score(hard) == pytest.approx(model.score(hard), abs=1e-3)
    plain = train_complexity(texts, weak, strong, buckets=1 << 10, tree_weight=0.0)
    plain.save(tmp_path / "plain.npz")
    assert len(ComplexityModel.load(tmp_path / "plain.npz").trees) == 0


def test_shape_features() -> None:
    mc = "Which of the following is NOT a prime?\nA. 2\nB. 3\nC. 9\nD. All of the above\nAnswer:"
    f = dict(zip(FEATURE_NAMES, text_features(mc).tolist(), strict=True))
    assert f["options"] == 4 and f["all_none_above"] == 1 and f["which_following"] == 1 and f["stem_asks"] == 1
    assert f["numeric_options"] == pytest.approx(0.75)
    word = "Ann buys 3 pens at $1.50 each and half as many books. How much does she spend in total?"
    f = dict(zip(FEATURE_NAMES, text_features(word).tolist(), strict=True))
    assert f["non_integers"] == 1 and f["fraction_words"] == 1 and f["rate_words"] == 1 and f["aggregate_words"] == 1
    assert f["options"] == 0 and f["numeric_options"] == 0
    huge = text_features("1" * 400 + " is big")  # overflows float: must stay finite
    assert np.isfinite(huge).all()


def test_tree_weight_out_of_range_is_refused() -> None:
    texts, weak, strong = _numeric(40)
    with pytest.raises(ValueError, match="tree_weight"):
        train_complexity(texts, weak, strong, buckets=1 << 10, tree_weight=1.5)
