"""The library API: order, purity, determinism, bad answers, and exact numbers in ``why``."""

from __future__ import annotations

import json

import pytest

from kneesource.engine import Engine
from kneesource.errors import InputError, UnknownIdError
from kneesource.inference.exact import posterior
from kneesource.interview import (
    InvalidAnswerError,
    State,
    answer,
    assessment,
    back,
    flow,
    next_question,
    start,
)
from kneesource.interview.state import case_of
from kneesource.interview.triage_link import question_bank
from tests.interview.conftest import QUIET_START, answered


def test_opening_then_screen_in_file_order(engine: Engine) -> None:
    state = start(engine)
    seen = []
    for qid, value in QUIET_START:
        q = next_question(state)
        assert q is not None
        seen.append(q.id)
        state = answer(state, qid, value)
    assert seen == [qid for qid, _ in QUIET_START]
    q = next_question(state)
    assert q is not None and q.phase == "adaptive"


def test_screen_cannot_be_skipped_by_answering_ahead(engine: Engine) -> None:
    state = answered(engine, [("age", 40), ("sex", "male"), ("knee_swelling", "yes")])
    q = next_question(state)
    assert q is not None and q.id == "where"  # an answer given early does not skip the order


def test_answer_is_pure_and_state_round_trips(engine: Engine) -> None:
    state = answered(engine, QUIET_START)
    before = state.to_dict()
    after = answer(state, "knee_swelling", "no")
    assert state.to_dict() == before
    assert after.answers[-1].value == "no"
    again = State.from_dict(json.loads(json.dumps(after.to_dict())))
    assert again == after
    assert back(after) == state


def test_same_state_same_question_and_why(engine: Engine) -> None:
    state = answered(engine, QUIET_START)
    first = next_question(state)
    flow._plan.cache_clear()
    second = next_question(State.from_dict(state.to_dict()))
    assert first == second


def test_unknown_question_suggests_the_closest(engine: Engine) -> None:
    with pytest.raises(UnknownIdError) as info:
        answer(start(engine), "knee_sweling", "yes")
    assert "knee_swelling" in info.value.suggestions


def test_invalid_value_lists_what_is_accepted(engine: Engine) -> None:
    state = start(engine)
    with pytest.raises(InvalidAnswerError, match="'front', 'below_kneecap', 'inner'"):
        answer(state, "where", "sideways")
    with pytest.raises(InvalidAnswerError, match="whole number of years from 0 to 120"):
        answer(state, "age", 130)
    with pytest.raises(InvalidAnswerError, match="'yes', 'no'"):
        answer(state, "knee_swelling", "maybe")


def test_exam_tests_only_in_clinician_mode(engine: Engine) -> None:
    with pytest.raises(InputError, match="clinician mode only"):
        answer(start(engine), "lachman_positive", "yes")
    state = answer(start(engine, mode="clinician"), "lachman_positive", "yes")
    assert state.value("lachman_positive") == "yes"


def test_clinician_mode_adds_exam_tests_with_how_to(engine: Engine) -> None:
    state = answered(engine, QUIET_START, mode="clinician")
    q = next_question(state)
    assert q is not None and q.id == "screen_exam"
    exam = {f.id for f in engine.kb.findings if f.kind == "exam"}
    for _ in range(25):
        state = answer(state, q.id, [] if q.type == "multi" else "no")
        q = next_question(state)
        assert q is not None, "a clinician interview of this case asks an exam test"
        if q.id in exam:
            break
    assert q.how_to == engine.kb.finding(q.id).how_to


def test_why_numbers_are_the_exact_posteriors(engine: Engine) -> None:
    state = answered(engine, QUIET_START)
    q = next_question(state)
    assert q is not None and q.type == "yes_no" and q.why.separates
    case = case_of(question_bank(engine), state)
    ids = engine.model.condition_ids
    for shift in q.why.separates:
        i = ids.index(shift.condition)
        now = posterior(engine.model, case.person(engine.model), case.evidence(engine.model))
        assert shift.now == pytest.approx(now.conditions[i], abs=1e-9)
        for label, p in shift.after:
            ev = {**case.evidence(engine.model), q.id: label == "yes"}
            exact = posterior(engine.model, case.person(engine.model), ev).conditions[i]
            # "yes" comes from the mixture identity, "no" from inference directly
            assert p == pytest.approx(exact, abs=1e-7)
    assert shift.name in q.why.text
    assert "bits" in q.why.text


def test_assessment_carries_the_triage(engine: Engine) -> None:
    state = answered(engine, [*QUIET_START[:4], ("screen_nerves", ["saddle"])])
    result = assessment(state)
    assert result.triage is not None and result.triage.level == "emergency"
