from __future__ import annotations

import math

import numpy as np
import pytest

from portico.evals.agreement import cohen_kappa, stratified_bootstrap


def _table(yes_yes: int, yes_no: int, no_yes: int, no_no: int) -> tuple[list[int], list[int]]:
    a = [1] * yes_yes + [1] * yes_no + [0] * no_yes + [0] * no_no
    b = [1] * yes_yes + [0] * yes_no + [1] * no_yes + [0] * no_no
    return a, b


def test_kappa_of_the_textbook_table() -> None:
    # 50 items, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: p_o 0.70, p_e 0.50, kappa 0.40.
    a, b = _table(20, 5, 10, 15)
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_tiny_cases() -> None:
    assert cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(0.5)
    assert cohen_kappa([1, 0, 1, 0], [1, 0, 1, 0]) == pytest.approx(1.0)
    assert cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-1.0)
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))  # chance agreement 1: undefined


def test_weights_count_items_that_many_times() -> None:
    a, b = [1, 1, 0, 0], [1, 0, 0, 1]
    weights = [3.0, 1.0, 2.0, 1.0]
    repeated_a = [x for x, w in zip(a, weights, strict=True) for _ in range(int(w))]
    repeated_b = [x for x, w in zip(b, weights, strict=True) for _ in range(int(w))]
    assert cohen_kappa(a, b, weights) == pytest.approx(cohen_kappa(repeated_a, repeated_b))
    assert cohen_kappa(a, b, weights) != pytest.approx(cohen_kappa(a, b))


def test_kappa_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        cohen_kappa([1, 0], [1])
    with pytest.raises(ValueError):
        cohen_kappa([1, 0], [1, 0], [-1.0, 2.0])


def test_bootstrap_keeps_strata_and_brackets_the_estimate() -> None:
    a, b = _table(20, 5, 10, 15)
    x, y = np.asarray(a), np.asarray(b)
    strata = [0] * 25 + [1] * 25  # the first annotator's class, as the agreement sample is drawn
    sizes = []

    def stat(idx: np.ndarray) -> float:
        sizes.append(int((idx < 25).sum()))
        return cohen_kappa(x[idx], y[idx])

    lo, hi = stratified_bootstrap(stat, strata, n_boot=500, seed=1)
    assert set(sizes) == {25}  # every resample keeps 25 items of each stratum
    assert lo < 0.4 < hi
    assert lo > 0.1 and hi < 0.7  # n = 50: roughly +-0.25 around 0.4
    assert (lo, hi) == stratified_bootstrap(lambda i: cohen_kappa(x[i], y[i]), strata, n_boot=500, seed=1)


def test_bootstrap_of_perfect_agreement_is_a_point() -> None:
    labels = np.asarray([1, 0, 1, 1, 0, 0])
    assert stratified_bootstrap(lambda i: float((labels[i] == labels[i]).mean()), [0] * 6, n_boot=50) == (1.0, 1.0)
