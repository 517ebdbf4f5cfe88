"""Accuracy, calibration and triage metrics as plain functions of plain data.

Kept free of the engine so that each can be checked against a hand calculation. Definitions
(also in ``docs/evaluation.md``):

* rank of the truth: 1-based position of the best-ranked true condition in the differential;
  top-k accuracy is the share of cases with rank <= k.
* calibration uses every (case, condition) pair: the predicted probability of the condition
  against whether it is present. Reliability bins are equal-width on [0, 1]; the last bin is
  closed. Expected calibration error (ECE) is the count-weighted mean of
  ``|mean predicted - observed frequency|`` over non-empty bins. The Brier score is the mean of
  ``(p - y)^2``.
* triage: *exact* = same level; *safe* = the expected level or more urgent; *under-triage* = less
  urgent than expected; *emergency sensitivity* = share of expected emergencies called emergency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kneesource.errors import InputError


def rank_of(ranking: Sequence[str], truth: Sequence[str]) -> int:
    """1-based rank of the first true id in ``ranking`` (len(ranking) + 1 if none appears)."""
    wanted = set(truth)
    for position, cid in enumerate(ranking, start=1):
        if cid in wanted:
            return position
    return len(ranking) + 1


def top_k_accuracy(ranks: Sequence[int], k: int) -> float:
    """Share of cases whose truth is within the first ``k`` (nan for no cases)."""
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    if not ranks:
        return float("nan")
    return sum(r <= k for r in ranks) / len(ranks)


def accuracy(truth: Sequence[object], predicted: Sequence[object]) -> float:
    """Share of equal pairs (nan for no pairs)."""
    if len(truth) != len(predicted):
        raise InputError(f"{len(truth)} true values but {len(predicted)} predictions")
    if not truth:
        return float("nan")
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)


def _as_arrays(
    probabilities: Sequence[float] | NDArray[np.float64], labels: Sequence[bool] | NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    if p.shape != y.shape:
        raise InputError(f"{p.size} probabilities but {y.size} labels")
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        raise InputError("probabilities must lie in [0, 1]")
    return p, y


def brier_score(
    probabilities: Sequence[float] | NDArray[np.float64], labels: Sequence[bool] | NDArray[np.bool_]
) -> float:
    """Mean squared difference between probability and outcome (0 is perfect)."""
    p, y = _as_arrays(probabilities, labels)
    return float(np.mean((p - y) ** 2)) if p.size else float("nan")


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    mean_predicted: float  # nan when empty
    observed: float  # share of positives, nan when empty


def reliability_bins(
    probabilities: Sequence[float] | NDArray[np.float64],
    labels: Sequence[bool] | NDArray[np.bool_],
    n_bins: int = 10,
) -> list[ReliabilityBin]:
    """Equal-width bins on [0, 1]; a probability of exactly 1 falls in the last bin."""
    if n_bins < 1:
        raise InputError(f"the number of bins must be at least 1, got {n_bins}")
    p, y = _as_arrays(probabilities, labels)
    index = np.minimum((p * n_bins).astype(np.intp), n_bins - 1)
    bins = []
    for b in range(n_bins):
        members = index == b
        count = int(members.sum())
        bins.append(
            ReliabilityBin(
                lower=b / n_bins,
                upper=(b + 1) / n_bins,
                count=count,
                mean_predicted=float(p[members].mean()) if count else float("nan"),
                observed=float(y[members].mean()) if count else float("nan"),
            )
        )
    return bins


def expected_calibration_error(
    probabilities: Sequence[float] | NDArray[np.float64],
    labels: Sequence[bool] | NDArray[np.bool_],
    n_bins: int = 10,
) -> float:
    """Count-weighted mean gap between predicted and observed frequency over the bins."""
    bins = reliability_bins(probabilities, labels, n_bins)
    total = sum(b.count for b in bins)
    if not total:
        return float("nan")
    return sum(b.count * abs(b.mean_predicted - b.observed) for b in bins if b.count) / total


def confusion_matrix(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> NDArray[np.int64]:
    """``m[i, j]`` = number of cases whose truth is ``labels[i]`` and prediction ``labels[j]``."""
    if len(truth) != len(predicted):
        raise InputError(f"{len(truth)} true values but {len(predicted)} predictions")
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        for value in (t, p):
            if value not in index:
                raise InputError(f"{value!r} is not one of the matrix labels")
        matrix[index[t], index[p]] += 1
    return matrix


@dataclass(frozen=True)
class TriageMetrics:
    n: int
    exact: float
    safe: float
    under_triage: float
    over_triage: float
    emergencies: int
    emergency_sensitivity: float  # nan when there is no expected emergency


def triage_metrics(
    expected: Sequence[str], predicted: Sequence[str], levels: Sequence[str]
) -> TriageMetrics:
    """Compare triage levels; ``levels`` lists them in ascending urgency."""
    if len(expected) != len(predicted):
        raise InputError(f"{len(expected)} expected levels but {len(predicted)} predictions")
    rank = {level: i for i, level in enumerate(levels)}
    for value in (*expected, *predicted):
        if value not in rank:
            raise InputError(f"unknown triage level {value!r}; accepted: {list(levels)}")
    n = len(expected)
    diffs = [rank[p] - rank[e] for e, p in zip(expected, predicted, strict=True)]
    top = levels[-1]
    emergencies = [p for e, p in zip(expected, predicted, strict=True) if e == top]
    nan = float("nan")
    return TriageMetrics(
        n=n,
        exact=sum(d == 0 for d in diffs) / n if n else nan,
        safe=sum(d >= 0 for d in diffs) / n if n else nan,
        under_triage=sum(d < 0 for d in diffs) / n if n else nan,
        over_triage=sum(d > 0 for d in diffs) / n if n else nan,
        emergencies=len(emergencies),
        emergency_sensitivity=(
            sum(p == top for p in emergencies) / len(emergencies) if emergencies else nan
        ),
    )
