"""Turn a link's published strength into a noisy-OR weight (the arithmetic, in one place).

In a leaky noisy-OR, a child with leak ``l`` is present when the leak or any present parent ``i``
"fires"; parent ``i`` fires with weight ``w_i``.  So with parent ``i`` alone present:
``P(child) = 1 - (1 - l)(1 - w_i)``.

Forms, with the published numbers as given:

* ``sensitivity`` + ``specificity``: the study compares the target condition with everyone else,
  so the others' rate, ``1 - Sp``, plays the part of the leak and ``1 - w = (1 - Sn) / Sp``.
  This keeps the published negative likelihood ratio exactly: ``LR- = 1 - w``.
* ``lr_negative`` alone: ``w = 1 - LR-`` (same identity).
* ``lr_positive`` and ``lr_negative``: solve ``Sp = (LR+ - 1) / (LR+ - LR-)``,
  ``Sn = LR+ (1 - Sp)``, then as for sensitivity + specificity.
* ``lr_positive`` alone: ``Sn = min(LR+ * l, CAP)`` using the child's leak as the false-positive
  rate, then as for ``probability``. LR+ above ``LR_CAP`` is capped first (small studies report
  "infinite" ratios; the evidence brief suggests a finite cap of 5-10).
* ``probability`` (chance of the child with this parent alone): ``1 - w = (1 - P) / (1 - l)``.
"""

from __future__ import annotations

from kneesource.kb.schema import Link

LR_CAP = 10.0
SENSITIVITY_CAP = 0.99


class StrengthError(ValueError):
    """The numbers give no valid weight (e.g. a sensitivity below the leak)."""


def link_weight(link: Link, leak: float) -> float:
    """The noisy-OR weight of ``link`` for a child whose leak is ``leak``."""
    form = link.form
    if form == "sens_spec":
        assert link.sensitivity is not None
        assert link.specificity is not None
        weight = 1.0 - (1.0 - link.sensitivity) / link.specificity
    elif form == "likelihood_ratio":
        lrp, lrn = link.lr_positive, link.lr_negative
        if lrp is not None and lrn is not None:
            lrp = min(lrp, LR_CAP)
            sp = (lrp - 1.0) / (lrp - lrn)
            sn = lrp * (1.0 - sp)
            weight = 1.0 - (1.0 - sn) / sp
        elif lrn is not None:
            weight = 1.0 - lrn
        else:
            assert lrp is not None
            sn = min(min(lrp, LR_CAP) * leak, SENSITIVITY_CAP)
            weight = _from_probability(sn, leak)
    else:
        assert link.probability is not None
        weight = _from_probability(link.probability, leak)
    if not 0.0 < weight < 1.0:
        raise StrengthError(
            f"gives noisy-OR weight {weight:.3f}, outside (0, 1): the child's chance with this "
            f"parent must exceed the leak {leak:.3f}"
        )
    return weight


def _from_probability(probability: float, leak: float) -> float:
    return 1.0 - (1.0 - probability) / (1.0 - leak)
