"""Warning-sign follow-ups: ``needed`` on hand-written expressions, the shipped questions leave no
urgent rule unscreened, and a half-met rule is finished before anything else is asked."""

from __future__ import annotations

from kneesource.engine import Engine
from kneesource.interview import assessment, next_question
from kneesource.interview.followup import follow_up, needed, unscreened_rules
from kneesource.interview.triage_link import question_bank
from kneesource.kb.schema import AGE_BANDS
from kneesource.triage import level_rank
from kneesource.triage.schema import AgeRange, AgeTest, AllOf, AnyOf, AtLeast

from .conftest import QUIET_START, answered


def test_needed_by_hand(engine: Engine) -> None:
    rules = engine.rules
    a, b, c = "calf_pain", "previous_dvt", "lump_behind_knee"
    both = AllOf(all_of=[a, AnyOf(any_of=[b, c])])
    everything = frozenset({a, b, c})
    # a reported, b and c unknown: one of them would complete the rule, so both are needed.
    assert needed(rules, both, frozenset({a}), everything - {a}, 40) == {b, c}
    # b already reported: the any_of holds, so only nothing more is needed.
    assert needed(rules, both, frozenset({a, b}), frozenset({c}), 40) == frozenset()
    # a is known absent (not present, not possible): the rule can no longer fire.
    assert needed(rules, both, frozenset({b}), frozenset({c}), 40) is None
    two = AtLeast(at_least=2, of=[a, b, c])
    assert needed(rules, two, frozenset({a}), frozenset({c}), 40) == {c}
    assert needed(rules, two, frozenset(), frozenset({c}), 40) is None
    child = AllOf(all_of=[AgeTest(age=AgeRange(max=17)), a])
    assert needed(rules, child, frozenset(), frozenset({a}), 12) == {a}
    assert needed(rules, child, frozenset(), frozenset({a}), 40) is None


def test_every_urgent_rule_has_a_screened_finding(engine: Engine) -> None:
    # Otherwise a rule could fire on findings that only adaptive questions ask, which the
    # interview might never reach.
    ages = sorted({age for _, lo, hi in AGE_BANDS for age in (lo, hi)})
    bank = question_bank(engine)
    for mode in ("patient", "clinician"):
        questions = bank.for_mode(mode)
        assert unscreened_rules(engine.rules, questions, ages) == [], mode


def test_the_leg_screen_settles_a_clot_with_calf_pain(engine: Engine) -> None:
    # Calf pain is on the leg screen, so a past clot needs no follow-up about the calf: left
    # unticked it is absent, and the adaptive questions come next; ticked with the clot, the
    # clot rule (calf pain with a Wells risk factor) calls for same-day care at once.
    start = dict(QUIET_START)
    start["screen_leg"] = ["clot_before"]
    q = next_question(answered(engine, start.items()))
    assert q is not None and q.phase == "adaptive"
    start["screen_leg"] = ["clot_before", "calf_pain"]
    result = assessment(answered(engine, start.items()))
    assert result.triage is not None and result.triage.level in ("urgent", "emergency")
    assert "dvt_tender_calf_with_risk" in {r.rule for r in result.triage.reasons}


def test_no_follow_up_without_a_reported_finding(engine: Engine) -> None:
    q = next_question(answered(engine, QUIET_START))
    assert q is not None and q.phase == "adaptive"


def test_a_warm_knee_asks_its_risk_factors_on_one_checklist(engine: Engine) -> None:
    # A warm, swollen knee half-meets the infected-joint rule, which still needs any one of its
    # risk factors: one checklist settles three of them, instead of three yes/no questions, and
    # the knee-replacement checklist the others (a replacement sets priors, so it is asked on
    # a checklist of its own; from 50 with the opening questions, below 50 as here, as a
    # follow-up). Warmth without swelling (the screen settles both) cannot complete that rule,
    # so asks nothing more.
    start = dict(QUIET_START)
    del start["knee_replacement"]
    start["age"] = 45
    start["screen_knee"] = ["swollen", "warm"]
    q = next_question(answered(engine, start.items()))
    assert q is not None and q.id == "infection_risk" and q.phase == "screen"
    implant = next_question(answered(engine, [*start.items(), ("infection_risk", [])]))
    assert implant is not None and implant.id == "knee_replacement_under_50"
    assert implant.phase == "screen"
    none = answered(
        engine, [*start.items(), ("infection_risk", []), ("knee_replacement_under_50", [])]
    )
    # A swollen knee also half-meets the bleeding-on-a-blood-thinner rule: asked next.
    thinner = next_question(none)
    assert thinner is not None and thinner.id == "anticoagulant_use" and thinner.phase == "screen"
    after_none = next_question(
        answered(
            engine,
            [
                *start.items(),
                ("infection_risk", []),
                ("knee_replacement_under_50", []),
                ("anticoagulant_use", "no"),
            ],
        )
    )
    assert after_none is not None and after_none.phase == "adaptive"
    warm_only = next_question(answered(engine, [*start.items(), ("screen_knee", ["warm"])]))
    assert warm_only is not None and warm_only.phase == "adaptive"
    result = assessment(answered(engine, [*start.items(), ("infection_risk", ["skin"])]))
    assert result.triage is not None and result.triage.level == "emergency"
    replaced = [*start.items(), ("infection_risk", []), ("knee_replacement_under_50", ["partial"])]
    result = assessment(answered(engine, replaced))
    assert result.triage is not None and result.triage.level == "emergency"


def test_from_50_the_opening_asks_about_a_knee_replacement(engine: Engine) -> None:
    # Pain in a replaced knee is never self-care, and pain in it that is getting worse is checked
    # the same day for an infected implant (redflags.yaml: replaced_knee_pain, from the ICJR
    # work-up of the painful knee replacement; replaced_knee_new_pain, from an NHS trust's
    # advice after a joint replacement). Expected by hand from those rules.
    opening = [("age", 52), ("sex", "female"), ("where", "inner")]
    q = next_question(answered(engine, opening))
    assert q is not None and q.id == "knee_replacement" and q.phase == "opening"
    younger = next_question(answered(engine, [("age", 49), *opening[1:]]))
    assert younger is not None and younger.phase == "screen"
    start = dict(QUIET_START)
    start["knee_replacement"] = ["total"]
    result = assessment(answered(engine, start.items()))
    assert result.triage is not None and result.triage.level == "soon"
    assert "replaced_knee_pain" in {r.rule for r in result.triage.reasons}
    start["how_long"] = ["worse"]
    result = assessment(answered(engine, start.items()))
    assert result.triage is not None and result.triage.level == "urgent"
    assert "replaced_knee_new_pain" in {r.rule for r in result.triage.reasons}


def test_a_rule_of_another_cause_at_the_level_now_is_finished(engine: Engine) -> None:
    # A woman of 30 with a weakening leg (same day) and calf pain: a clot rule at the same level
    # is half met, and its advice and safety net differ from the weak leg's, so a clot risk is
    # asked (a model patient of bench/interview_bench.py, seed 11, missed it before). Once a clot
    # rule fires (a swollen calf), the other clot rules at that level are not chased.
    bank = question_bank(engine)
    adaptive = [q for q in bank.for_mode("patient") if q.applies(30, "female")]
    adaptive = [q for q in adaptive if q.phase == "adaptive"]
    urgent = level_rank("urgent")
    weak = {"calf_pain": True, "progressive_leg_weakness": True}
    found = follow_up(engine.rules, adaptive, weak, 30, urgent)
    assert found is not None
    assert (found.rule.condition, found.rule.level) == ("dvt", "urgent")
    assert found.reported == ("calf_pain",)
    swollen = {"calf_pain": True, "calf_swelling": True}
    after = follow_up(engine.rules, adaptive, swollen, 30, urgent)
    assert after is None or level_rank(after.rule.level) > urgent or after.rule.condition != "dvt"
