"""Link arithmetic, checked against hand calculations."""

from __future__ import annotations

import pytest

from kneesource.kb.schema import Assumption, Link
from kneesource.kb.strength import LR_CAP, StrengthError, link_weight

SRC = Assumption(assumption="A test value, chosen for hand calculation.")


def _link(**strength: float) -> Link:
    return Link(parent="a_condition", child="a_finding", source=SRC, **strength)


def test_sensitivity_specificity_keeps_the_negative_likelihood_ratio() -> None:
    # Lachman, Sokal 2022: Sn 0.81, Sp 0.85 -> 1 - w = 0.19 / 0.85 = 0.223529...
    w = link_weight(_link(sensitivity=0.81, specificity=0.85), leak=0.05)
    assert w == pytest.approx(1 - 0.19 / 0.85)
    assert 1 - w == pytest.approx((1 - 0.81) / 0.85)  # LR- by definition


def test_negative_likelihood_ratio_alone() -> None:
    assert link_weight(_link(lr_negative=0.23), leak=0.1) == pytest.approx(0.77)


def test_both_likelihood_ratios_recover_sensitivity_and_specificity() -> None:
    # LR+ 4, LR- 0.25: Sp = 3 / 3.75 = 0.8, Sn = 4 * 0.2 = 0.8, 1 - w = 0.2 / 0.8 = 0.25.
    assert link_weight(_link(lr_positive=4.0, lr_negative=0.25), leak=0.1) == pytest.approx(0.75)


def test_positive_likelihood_ratio_alone_uses_the_leak() -> None:
    # LR+ 5 with leak 0.04: P = 0.2, 1 - w = 0.8 / 0.96.
    assert link_weight(_link(lr_positive=5.0), leak=0.04) == pytest.approx(1 - 0.8 / 0.96)


def test_infinite_likelihood_ratios_are_capped() -> None:
    capped = link_weight(_link(lr_positive=1000.0), leak=0.02)
    assert capped == pytest.approx(link_weight(_link(lr_positive=LR_CAP), leak=0.02))


def test_probability_form() -> None:
    # P(child | parent alone) = 0.6 with leak 0.2: 1 - w = 0.4 / 0.8 = 0.5.
    assert link_weight(_link(probability=0.6), leak=0.2) == pytest.approx(0.5)


def test_probability_below_the_leak_is_refused() -> None:
    with pytest.raises(StrengthError, match="outside"):
        link_weight(_link(probability=0.1), leak=0.2)
