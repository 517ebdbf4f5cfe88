"""A child's knee pain: the hip is asked about on the screen, and a heavy child with pain at the
hip is asked about weight before the interview stops.

Clinical source of the expectation: knee pain in a child may come from the hip, and the hip
must be examined (Royal Cornwall Hospitals, the limping child, ``rcht_child_limp``); a slipped
growth plate (SCFE) presents with knee or distal thigh pain alone in 15% (Matava 1999), and more
than half of the children with a slip are above the 95th weight percentile (Loder,
``loder_scfe_review``). The level expected at the end is the one ``assess`` gives for everything
the person knows, the reference the interview is held to (docs/interview.md).
"""

from __future__ import annotations

from kneesource.case import Case
from kneesource.engine import Engine
from kneesource.interview import State, assessment, start
from kneesource.interview.flow import askable
from kneesource.interview.simulate import run_interview, simulated_answer
from kneesource.interview.triage_link import question_bank

from .conftest import answered

# A 13-year-old girl (the shape of a simulated patient the interview once sent home with "see a
# GP within days" while everything she knew called for the same day): months of a dull ache at
# the front of the knee, some hip pain, heavier than a healthy weight for her age, a runner.
PRESENT = {
    "pain_front_of_knee",
    "pain_below_kneecap",
    "pain_dull_diffuse_ache",
    "pain_over_6_weeks",
    "hip_pain",
    "overweight_child",
    "activity_running",
}


def _girl(engine: Engine) -> Case:
    bank = question_bank(engine)
    can_tell = bank.findings_for("patient", 13, "female")
    return Case(13, "female", {f: f in PRESENT for f in can_tell})


def test_the_screen_asks_a_child_about_the_hip_and_not_an_adult(engine: Engine) -> None:
    bank = question_bank(engine)
    spec = bank.get("screen_child_hip")
    assert {str(o.finding) for o in spec.options} >= {"hip_pain", "groin_pain"}
    opening = (("sex", "female"), ("where", "front"))
    child = answered(engine, (("age", 13), *opening))
    adult = answered(engine, (("age", 30), *opening))
    child_asked = _screen_questions(engine, child)
    assert "screen_child_hip" in child_asked
    assert "screen_child_hip" not in _screen_questions(engine, adult)


def _screen_questions(engine: Engine, state: State) -> list[str]:
    return [q.id for q in askable(question_bank(engine), state) if q.phase == "screen"]


def test_a_heavy_child_with_hip_pain_ends_at_the_level_of_everything_she_knows(
    engine: Engine,
) -> None:
    bank = question_bank(engine)
    girl = _girl(engine)
    full = engine.assess(girl).triage.level
    assert full == "urgent"  # a slipped growth plate over its same-day line on what she knows
    state, asked = run_interview(start(engine), lambda q: simulated_answer(bank.get(q.id), girl))
    ids = [q.id for q, _ in asked]
    assert "screen_child_hip" in ids
    assert "overweight_child" in ids, ids
    assert assessment(state).triage.level == full, ids
