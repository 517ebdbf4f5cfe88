"""Invariants of the triage level, checked with Hypothesis on the shipped knowledge base:

* adding a warning-sign finding (unknown -> present) never lowers the level;
* removing one (present -> unknown) never raises it;
* the level and its reasons do not depend on the order of the findings;
* the quick level the interview scores answers with never exceeds the level, and equals it on
  every safety-suite presentation.

Base cases are random sets of real findings, and the safety-suite presentations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.triage import (
    QuickLevel,
    Triage,
    level_rank,
    quick_level,
    triage,
    triage_levels,
    triage_many,
)

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


def _quick(age: int, findings: dict[str, bool]) -> int:
    case = Case(age=age, findings=findings)
    result = ENGINE.assess(case)
    assert result.posterior is not None
    level = quick_level(ENGINE.rules, ENGINE.model, case, result.posterior)
    # One instance serves every case here, as in an interview: what it keeps per set of present
    # findings must give what a fresh one works out.
    assert SHARED_QUICK(case, result.posterior) == level
    return level


SHARED_QUICK = QuickLevel(ENGINE.rules, ENGINE.model)


# Cases of the suite whose quick level is below the full one: a warning sign explains a serious
# cause away, and the full triage keeps the level through the combination without that sign.
# None now: the twisted knee that will not straighten (locked_bucket_handle_twist), which was
# one, has its fracture below the line with and without the twist once the complaint is
# explained (a woman of 27 without the inner-knee pain still is one: tests/interview).
EXPLAINED_AWAY: set[str] = set()


@pytest.mark.parametrize("spec", SAFETY, ids=[s["id"] for s in SAFETY])
def test_the_quick_level_is_the_level_on_the_safety_suite(spec: dict[str, Any]) -> None:
    # The quick level drops only the combinations that keep the level monotone (expected: the
    # full triage of the same case), which matter only where a warning sign explains away.
    findings = {k: v for k, v in spec["findings"].items() if k in ENGINE.model.finding_ids}
    full = level_rank(_triage(spec["age"], findings).level)
    if spec["id"] in EXPLAINED_AWAY:
        assert _quick(spec["age"], findings) < full
    else:
        assert _quick(spec["age"], findings) == full


@SETTINGS
@given(base_and_warning())
def test_the_quick_level_never_exceeds_the_level(drawn: tuple[int, dict[str, bool], str]) -> None:
    # With up to MAX_COMBINED warning signs the combinations include all the answers, so the
    # full triage can only be higher (hand reasoning from the definition in triage/decide.py).
    age, findings, warning = drawn
    findings = {**findings, warning: True}
    assert _quick(age, findings) <= level_rank(_triage(age, findings).level)


@SETTINGS
@given(
    st.integers(min_value=3, max_value=95),
    st.lists(st.sampled_from(EVIDENCE_IDS), max_size=8, unique=True),
    st.data(),
)
def test_without_a_warning_sign_the_quick_level_is_the_level(
    age: int, ids: list[str], data: st.DataObject
) -> None:
    # With no warning sign present there are no combinations to read (triage/decide.py), so the
    # two levels agree by definition; the interview relies on it before stopping.
    watched = ENGINE.rules.warning_findings_at(age)
    findings = {f: data.draw(st.booleans()) if f not in watched else False for f in ids}
    assert _quick(age, findings) == level_rank(_triage(age, findings).level)


def test_triage_of_many_in_one_batch_is_triage_one_case_at_a_time() -> None:
    # Expected: triage() of each case on its own. The whole safety suite in one batch mixes
    # cases with and without warning signs, so each case must read its own combinations.
    cases, assessments = [], []
    for spec in SAFETY:
        findings = {k: v for k, v in spec["findings"].items() if k in ENGINE.model.finding_ids}
        case = Case(age=spec["age"], findings=findings)
        cases.append(case)
        assessments.append(ENGINE.assess(case))
    together = triage_many(ENGINE.rules, ENGINE.kb, ENGINE.model, cases, assessments)
    for case, a, got in zip(cases, assessments, together, strict=True):
        alone = triage(ENGINE.rules, ENGINE.kb, case, a, ENGINE.model)
        assert (got.level, got.reasons, got.advice) == (alone.level, alone.reasons, alone.advice)
    assert len({t.level for t in together}) > 2
    # The levels alone, without the advice text, are the same.
    posteriors = [a.posterior for a in assessments]
    ranks = triage_levels(ENGINE.rules, ENGINE.model, cases, posteriors)
    assert ranks == [level_rank(t.level) for t in together]


@SETTINGS
@given(
    present=st.sets(st.sampled_from(sorted(ENGINE.rules.warning_findings)), max_size=4),
    age=st.integers(0, 120),
)
def test_the_shortcut_for_rules_naming_no_present_finding_changes_nothing(
    present: set[str], age: int
) -> None:
    # ``matches`` answers from a per-age table when an expression names none of the present
    # findings; the full walk of the expression must agree for every rule and threshold.
    rules = ENGINE.rules
    given_ = frozenset(present)
    exprs = [r.when for r in rules.rules] + [t.requires for t in rules.thresholds if t.requires]
    for expr in exprs:
        assert rules.matches(expr, given_, age) == rules._walk(expr, given_, age)
