"""Metric functions against values worked out by hand (the arithmetic is in each comment)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kneesource.errors import InputError
from kneesource.evaluation.metrics import (
    accuracy,
    brier_score,
    confusion_matrix,
    expected_calibration_error,
    rank_of,
    reliability_bins,
    top_k_accuracy,
    triage_metrics,
)

LEVELS = ("self_care", "soon", "urgent", "emergency")


def test_rank_of_takes_the_best_ranked_true_condition() -> None:
    ranking = ["a", "b", "c", "d"]
    assert rank_of(ranking, ["c"]) == 3
    assert rank_of(ranking, ["d", "b"]) == 2
    assert rank_of(ranking, ["z"]) == 5  # absent: one past the end


def test_top_k_accuracy_by_hand() -> None:
    ranks = [1, 2, 5, 1, 3]
    assert top_k_accuracy(ranks, 1) == pytest.approx(2 / 5)  # ranks 1, 1
    assert top_k_accuracy(ranks, 3) == pytest.approx(4 / 5)  # ranks 1, 2, 1, 3
    assert math.isnan(top_k_accuracy([], 1))
    with pytest.raises(InputError):
        top_k_accuracy(ranks, 0)


def test_accuracy_by_hand() -> None:
    assert accuracy(["knee", "hip", "spine"], ["knee", "spine", "spine"]) == pytest.approx(2 / 3)
    with pytest.raises(InputError):
        accuracy(["knee"], [])


def test_brier_score_by_hand() -> None:
    # (0.9-1)^2 + (0.2-0)^2 + (0.6-1)^2 + (0-0)^2 = 0.01 + 0.04 + 0.16 + 0 = 0.21; / 4 = 0.0525
    assert brier_score([0.9, 0.2, 0.6, 0.0], [True, False, True, False]) == pytest.approx(0.0525)
    with pytest.raises(InputError):
        brier_score([1.2], [True])


def test_reliability_bins_and_ece_by_hand() -> None:
    probs = [0.05, 0.15, 0.12, 0.95, 1.0, 0.55]
    labels = [False, True, False, True, True, False]
    bins = reliability_bins(probs, labels, n_bins=10)
    assert [b.count for b in bins] == [1, 2, 0, 0, 0, 1, 0, 0, 0, 2]  # 1.0 joins the last bin
    assert bins[1].mean_predicted == pytest.approx(0.135)  # (0.15 + 0.12) / 2
    assert bins[1].observed == pytest.approx(0.5)
    assert bins[9].mean_predicted == pytest.approx(0.975)
    assert math.isnan(bins[2].mean_predicted)
    # gaps: bin0 |0.05-0| = 0.05 (n1); bin1 |0.135-0.5| = 0.365 (n2); bin5 |0.55-0| = 0.55 (n1);
    # bin9 |0.975-1| = 0.025 (n2). ECE = (0.05 + 0.73 + 0.55 + 0.05) / 6 = 1.38 / 6 = 0.23
    assert expected_calibration_error(probs, labels, 10) == pytest.approx(0.23)


def test_confusion_matrix_by_hand() -> None:
    m = confusion_matrix(["a", "a", "b", "c"], ["a", "b", "b", "a"], ["a", "b", "c"])
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 0]])
    with pytest.raises(InputError):
        confusion_matrix(["a"], ["x"], ["a"])


def test_triage_metrics_by_hand() -> None:
    expected = ["emergency", "emergency", "urgent", "self_care", "soon"]
    given_ = ["emergency", "urgent", "emergency", "self_care", "self_care"]
    t = triage_metrics(expected, given_, LEVELS)
    assert t.n == 5
    assert t.exact == pytest.approx(2 / 5)  # cases 1 and 4
    assert t.safe == pytest.approx(3 / 5)  # exact two plus the over-triaged case 3
    assert t.under_triage == pytest.approx(2 / 5)  # cases 2 and 5
    assert t.over_triage == pytest.approx(1 / 5)
    assert t.emergencies == 2
    assert t.emergency_sensitivity == pytest.approx(1 / 2)
    with pytest.raises(InputError):
        triage_metrics(["now"], ["soon"], LEVELS)


probability_lists = st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=60)


@given(probability_lists)
def test_calibration_invariants(pairs: list[tuple[float, bool]]) -> None:
    probs = [p for p, _ in pairs]
    labels = [y for _, y in pairs]
    ece = expected_calibration_error(probs, labels)
    assert 0.0 <= ece <= 1.0
    assert 0.0 <= brier_score(probs, labels) <= 1.0
    assert sum(b.count for b in reliability_bins(probs, labels)) == len(pairs)
    # perfectly confident, perfectly right predictions are perfectly calibrated
    assert expected_calibration_error([float(y) for y in labels], labels) == 0.0


@given(st.lists(st.integers(1, 30), min_size=1, max_size=40))
def test_top_k_grows_with_k(ranks: list[int]) -> None:
    values = [top_k_accuracy(ranks, k) for k in range(1, 32)]
    assert values == sorted(values)
    assert values[-1] == 1.0
