"""Where the answers point (``leading_source``): the source group whose odds the answers raised
the most, the most probable group when they raised none.

Expected values come from hand calculation (the Bayes factors of small made-up numbers, worked
in the comments) and, for the clinical cases, from published guidance named in each test."""

from __future__ import annotations

import numpy as np
import pytest

from kneesource.assessment import leading_source, source_before, source_factors
from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.inference.exact import posterior
from kneesource.kb.schema import SOURCE_GROUPS
from kneesource.model.compiled import Person
from tests.random_models import population_priors

ENGINE = default_engine()
NONE = dict.fromkeys(SOURCE_GROUPS, 0.01)


def _groups(**values: float) -> dict[str, float]:
    return {**NONE, **values}


def test_the_group_raised_most_is_named_even_when_another_is_more_probable() -> None:
    # knee 0.50 -> 0.60: odds 1 -> 1.5, factor 1.5; hip 0.01 -> 0.10: odds 0.0101 -> 0.111,
    # factor 11.0. The hip is named although the knee is six times as probable.
    before = _groups(knee=0.5)
    after = _groups(knee=0.6, hip=0.1)
    factors = source_factors(after, before)
    assert factors["knee"] == pytest.approx(1.5)
    assert factors["hip"] == pytest.approx((0.1 / 0.9) / (0.01 / 0.99))
    assert leading_source(after, before) == "hip"


def test_a_group_lowered_least_is_never_named() -> None:
    # Every group lowered: knee 0.5 -> 0.05 (factor 0.053), vascular 0.01 -> 0.009 (factor 0.9).
    # The vascular group fell least but nothing points to it: the most probable group is named.
    before = _groups(knee=0.5)
    after = {**_groups(knee=0.05), "vascular": 0.009}
    assert leading_source(after, before) == "knee"


def test_a_rise_not_worth_more_than_a_bare_mention_names_no_group() -> None:
    # Kass and Raftery 1995: a Bayes factor from 1 to 3 is not worth more than a bare mention.
    # By hand: vascular 0.027 -> 0.035, odds 0.02775 -> 0.03627, factor 1.31; knee 0.70 -> 0.68,
    # lowered. Answers mostly unknown nudge a small group up this much while the pain stays at
    # the knee, so the most probable group is named.
    before = _groups(knee=0.70, vascular=0.027)
    after = _groups(knee=0.68, vascular=0.035)
    assert source_factors(after, before)["vascular"] == pytest.approx(
        (0.035 / 0.965) / (0.027 / 0.973)
    )
    assert leading_source(after, before) == "knee"
    # Raised 3.5 times (0.027 -> 0.0884: odds 0.02775 -> 0.09697), it leads.
    raised = _groups(knee=0.68, vascular=0.0884)
    assert source_factors(raised, before)["vascular"] == pytest.approx(3.49, abs=0.01)
    assert leading_source(raised, before) == "vascular"


def test_with_no_answers_the_most_probable_group_is_named() -> None:
    a = ENGINE.assess(Case(70, "female", {}))
    assert a.leading_source == max(a.pain_source, key=lambda g: a.pain_source[g]) == "knee"


@pytest.mark.parametrize(
    "person", [Person(15, "female", frozenset({"activity_running"})), Person(70, "male")]
)
def test_probabilities_before_the_answers_are_the_posterior_of_no_answer(person: Person) -> None:
    # The closed form (one minus the product of prior complements) against bucket elimination
    # run with no evidence: two different computations of the same number.
    assert person.activities <= set(ENGINE.model.context_ids)
    closed = source_before(ENGINE.model, ENGINE.model.priors(person))
    run = posterior(ENGINE.model, person, {}).sources
    for g in SOURCE_GROUPS:
        assert closed[g] == pytest.approx(run[g], abs=1e-12)


def test_source_before_by_hand_for_the_vascular_group() -> None:
    # The vascular group holds a sudden blockage of a leg artery, narrowed leg arteries, DVT,
    # popliteal aneurysm and popliteal entrapment. In the population they are independent with
    # priors q1..q5 (the consulting priors times the share s with the complaint, worked out in
    # tests.random_models from the definition), and any of them brings the complaint, so among
    # people with the complaint the chance of at least one is (1 - (1-q1)...(1-q5)) / s.
    model = ENGINE.model
    person = Person(60, "male")
    priors = model.priors(person)
    members = [i for i, g in enumerate(model.groups) if g == "vascular"]
    assert sorted(model.condition_ids[i] for i in members) == [
        "acute_limb_ischaemia",
        "arterial_claudication",
        "dvt",
        "popliteal_artery_aneurysm",
        "popliteal_artery_entrapment",
    ]
    q, s, _ = population_priors(model, priors)
    q1, q2, q3, q4, q5 = (float(q[i]) for i in members)
    expected = (1 - (1 - q1) * (1 - q2) * (1 - q3) * (1 - q4) * (1 - q5)) / s
    assert source_before(model, priors)["vascular"] == pytest.approx(expected, rel=1e-10)
    # Without the complaint it would be 1 - (1-p1)...(1-p5), a different number.
    plain = 1 - np.prod([1 - float(priors[i]) for i in members])
    assert abs(expected - plain) > 1e-4


def test_a_child_with_a_limp_points_to_the_hip() -> None:
    # NICE CKS "Limp in children": in a child with a limp the hip must be examined; Perthes disease
    # (ages 4-10) and transient synovitis are hip causes that present with a limp and knee pain,
    # and a slipped growth plate at 10-16 (Peck 2017). At five an irritable hip, the commonest
    # cause of a limp (Krul 2010), makes the hip the most probable group as well; at twelve the
    # knee's common causes stay more probable and the answers still point to the hip.
    young = ENGINE.assess(Case(5, "male", {"limp": True}))
    assert young.leading_source == "hip"
    assert young.pain_source["hip"] > young.pain_source["knee"]
    older = ENGINE.assess(Case(12, "male", {"limp": True}))
    assert older.leading_source == "hip"
    assert older.pain_source["knee"] > older.pain_source["hip"]  # most probable would say knee


def test_calf_swelling_after_a_long_flight_points_to_the_vessels() -> None:
    # NICE NG158: a swollen, painful calf with a risk factor such as long travel is a suspected
    # DVT, to be assessed with the Wells score the same day.
    a = ENGINE.assess(
        Case(
            21,
            "male",
            {
                "activity_running": True,
                "calf_pain": True,
                "calf_swelling": True,
                "pitting_oedema": True,
                "recent_long_travel": True,
            },
        )
    )
    assert a.leading_source == "vascular"
    assert a.to_dict()["leading_source"] == "vascular"
    assert a.to_dict()["pain_source_before"]["vascular"] < 0.01


def test_femoral_nerve_signs_point_to_the_spine() -> None:
    # Evidence brief 1.1: front-of-thigh pain, numb inner knee and a positive femoral stretch test
    # are L3/L4 root signs.
    a = ENGINE.assess(
        Case(
            45,
            "male",
            {
                "back_pain": True,
                "pain_front_of_thigh": True,
                "numbness_inner_knee": True,
                "femoral_stretch_positive": True,
            },
        )
    )
    assert a.leading_source == "spine"
