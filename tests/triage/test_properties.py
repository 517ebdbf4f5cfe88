"""Invariants of the triage level, checked with Hypothesis on the shipped knowledge base:

* adding a warning-sign finding (unknown -> present) never lowers the level;
* removing one (present -> unknown) never raises it;
* the level and its reasons do not depend on the order of the findings.

Base cases are random sets of real findings, and the safety-suite presentations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.triage import Triage, level_rank

ENGINE = default_engine()
EVIDENCE_IDS = sorted(ENGINE.model.finding_ids)
SAFETY: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "safety_cases.yaml").read_text(encoding="utf-8")
)["cases"]
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _triage(age: int, findings: dict[str, bool]) -> Triage:
    result = ENGINE.assess(Case(age=age, findings=findings)).triage
    assert result is not None
    return result


@st.composite
def base_and_warning(draw: st.DrawFn) -> tuple[int, dict[str, bool], str]:
    """A person, up to five answered findings, and a warning sign they have not answered."""
    if draw(st.booleans()):
        spec = draw(st.sampled_from(SAFETY))
        age, findings = (
            spec["age"],
            {k: v for k, v in spec["findings"].items() if k in ENGINE.model.finding_ids},
        )
    else:
        age = draw(st.integers(min_value=3, max_value=95))
        ids = draw(st.lists(st.sampled_from(EVIDENCE_IDS), max_size=5, unique=True))
        findings = {f: draw(st.booleans()) for f in ids}
    warnings = sorted(ENGINE.rules.warning_findings_at(age) - set(findings))
    return age, findings, draw(st.sampled_from(warnings))


@SETTINGS
@given(base_and_warning())
def test_adding_a_warning_sign_never_lowers_the_level(
    drawn: tuple[int, dict[str, bool], str],
) -> None:
    age, findings, warning = drawn
    before = _triage(age, findings)
    after = _triage(age, {**findings, warning: True})
    assert level_rank(after.level) >= level_rank(before.level), (warning, after.reasons)


@SETTINGS
@given(base_and_warning())
def test_removing_a_warning_sign_never_raises_the_level(
    drawn: tuple[int, dict[str, bool], str],
) -> None:
    age, findings, warning = drawn
    with_sign = _triage(age, {**findings, warning: True})
    without = _triage(age, findings)
    assert level_rank(without.level) <= level_rank(with_sign.level)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.sampled_from(SAFETY), st.randoms(use_true_random=False))
def test_the_order_of_findings_does_not_matter(spec: dict[str, Any], rnd: Any) -> None:
    items = list(spec["findings"].items())
    shuffled = items[:]
    rnd.shuffle(shuffled)
    first = _triage(spec["age"], dict(items))
    second = _triage(spec["age"], dict(shuffled))
    assert first == second
