"""A calf that aches after walking a set distance is asked about on the leg's screen.

Clinical source of the expectation: intermittent claudication is peripheral arterial disease
until shown otherwise, to be assessed in primary care with an ankle-brachial pressure index
(``gp_reasoning_leg_pain``, the source of ``calf_claudication_rule``: see a GP within days). A
man of 62 who tells only that walking about 500 m brings on the ache (the shape of a published
case the interview never asked about it in 30 questions) should hear that level, with narrowed
arteries among the three leading causes, as ``assess`` gives for what he knows.
"""

from __future__ import annotations

from kneesource.case import Case
from kneesource.engine import Engine
from kneesource.interview import assessment, start
from kneesource.interview.simulate import run_interview, simulated_answer
from kneesource.interview.triage_link import question_bank


def test_the_leg_screen_asks_about_a_calf_that_aches_on_walking(engine: Engine) -> None:
    spec = question_bank(engine).get("screen_leg")
    assert spec.phase == "screen"
    assert "calf_claudication" in {str(o.finding) for o in spec.options}


def test_a_man_who_knows_only_that_walking_brings_on_the_ache(engine: Engine) -> None:
    bank = question_bank(engine)
    man = Case(62, "male", {"calf_claudication": True, "smoker": False})
    full = engine.assess(man)
    assert "arterial_claudication" in [c.id for c in full.conditions[:3]]
    state, asked = run_interview(
        start(engine, mode="clinician"), lambda q: simulated_answer(bank.get(q.id), man)
    )
    result = assessment(state)
    assert "arterial_claudication" in [c.id for c in result.conditions[:3]], [
        (q.id, v) for q, v in asked
    ]
    assert result.triage is not None and result.triage.level == full.triage.level == "soon"
    assert any(r.rule == "calf_claudication_rule" for r in result.triage.reasons)
