"""A checklist answered in part: some options ticked, some "not sure", the rest "no".

Expected values are read from the question bank's options (questions.yaml) by hand: the
``worse_with`` checklist is stairs, sitting_bent, activity, bending_knee; the screen's
``screen_knee`` starts hot_swollen, fever, big_accident, no_weight, stuck_bent, swelled_fast,
swollen (knee_swelling, a yes/no question of its own too)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from kneesource.engine import Engine
from kneesource.errors import InputError
from kneesource.interview import InvalidAnswerError, PartChecklist, State, answer, flow
from kneesource.interview.state import DONT_KNOW, findings_of, normalise
from kneesource.interview.terminal import _parse
from kneesource.interview.triage_link import question_bank
from kneesource.interview.why import answer_label
from kneesource.report.fhir import case_from_response, questionnaire_response
from tests.interview.conftest import QUIET_START, answered


def test_the_canonical_forms(engine: Engine) -> None:
    spec = question_bank(engine).get("worse_with")
    part = {"ticked": ["activity", "stairs"], "not_sure": ["bending_knee"]}
    # File order, whatever order the caller gave.
    assert normalise(spec, part) == PartChecklist(("stairs", "activity"), ("bending_knee",))
    # Nothing unsure is a plain list of ticks; everything unsure and nothing ticked is
    # "don't know"; a missing key is an empty list.
    assert normalise(spec, {"ticked": ["stairs"], "not_sure": []}) == ("stairs",)
    assert normalise(spec, {"ticked": ["stairs"]}) == ("stairs",)
    every = ["stairs", "sitting_bent", "activity", "bending_knee"]
    assert normalise(spec, {"not_sure": every}) == DONT_KNOW
    assert normalise(spec, {"ticked": [], "not_sure": every[:3]}) == PartChecklist(
        (), (*every[:3],)
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"ticked": ["stairs"], "not_sure": ["stairs"]}, "'stairs' is both ticked and not sure"),
        ({"ticked": ["stairz"]}, "unknown option 'stairz' in 'ticked'; did you mean 'stairs'"),
        ({"not_sure": ["activty"]}, "unknown option 'activty' in 'not_sure'; did you mean"),
        ({"ticked": ["stairs"], "unsure": []}, "got the key 'unsure'"),
        ({"ticked": "stairs"}, "'ticked' is a list of option ids"),
    ],
)
def test_bad_parts_are_refused_by_name(engine: Engine, value: object, message: str) -> None:
    spec = question_bank(engine).get("worse_with")
    with pytest.raises(InvalidAnswerError, match=message.replace("(", r"\(")):
        normalise(spec, value)
    # A yes/no question takes no object at all.
    with pytest.raises(InvalidAnswerError, match="'yes', 'no'"):
        normalise(question_bank(engine).get("locking"), value)


def test_not_sure_settles_nothing_and_undoes_nothing(engine: Engine) -> None:
    bank = question_bank(engine)
    state = answered(engine, [*QUIET_START, ("pain_stairs_squatting", "yes")])
    after = answer(
        state, "worse_with", {"ticked": ["activity"], "not_sure": ["stairs", "bending_knee"]}
    )
    known = findings_of(bank, after)
    assert known["pain_worse_with_activity_better_rest"] is True
    assert known["pain_prolonged_sitting_knees_bent"] is False  # neither ticked nor unsure: no
    assert "pain_on_knee_movement" not in known  # not sure: unknown
    assert known["pain_stairs_squatting"] is True  # an earlier "yes" stands


def test_what_the_person_is_not_sure_of_is_not_asked_again(engine: Engine) -> None:
    # Like "don't know" to the whole list: the options not sure of do not come back as
    # questions of their own; a red-flag screen's can, as they complete warning signs.
    bank = question_bank(engine)
    state = answered(engine, [*QUIET_START, ("worse_with", {"ticked": [], "not_sure": ["stairs"]})])
    assert "pain_stairs_squatting" not in {q.id for q in flow.askable(bank, state)}
    screen = [a for a in QUIET_START if a[0] != "screen_knee"]
    idx = [a[0] for a in QUIET_START].index("screen_knee")
    screen.insert(idx, ("screen_knee", {"ticked": [], "not_sure": ["fever", "swollen"]}))
    unsure_screen = answered(engine, screen)
    known = findings_of(bank, unsure_screen)
    assert known["injury_high_energy"] is False and "fever_or_unwell" not in known
    assert "knee_swelling" in {q.id for q in flow.askable(bank, unsure_screen)}


def test_the_state_round_trips_through_json(engine: Engine) -> None:
    state = answered(
        engine, [*QUIET_START, ("worse_with", {"ticked": ["stairs"], "not_sure": ["activity"]})]
    )
    stored = json.loads(json.dumps(state.to_dict()))
    assert stored["answers"][-1] == ["worse_with", {"ticked": ["stairs"], "not_sure": ["activity"]}]
    assert State.from_dict(stored) == state
    stored["answers"][-1][1] = {"ticked": ["stairs"]}
    with pytest.raises(InputError, match="not a saved interview state"):
        State.from_dict(stored)


def test_the_answer_in_words(engine: Engine) -> None:
    spec = question_bank(engine).get("worse_with")
    assert (
        answer_label(spec, PartChecklist(("stairs",), ("activity",)))
        == "Stairs or squatting; not sure about: Being active (and it is better when I rest)"
    )
    assert answer_label(spec, PartChecklist((), ("stairs",))) == (
        "none of these, but not sure about: Stairs or squatting"
    )


def test_the_terminal_reads_a_question_mark_as_not_sure(engine: Engine) -> None:
    q = flow.next_question(answered(engine, QUIET_START[:2]))
    assert q is not None and q.id == "where"
    ids = [o.id for o in q.options]
    assert _parse(q, "1, ?3") == {"ticked": [ids[0]], "not_sure": [ids[2]]}
    assert _parse(q, "?2") == {"ticked": [], "not_sure": [ids[1]]}
    assert _parse(q, "1 2") == [ids[0], ids[1]]
    assert _parse(q, "?99") == "?99"  # not an option number: left for answer() to refuse
    # Neither is a superscript (a digit to str.isdigit, not to int()) or a number thousands of
    # digits long (int() refuses it): both are left for answer() to refuse, never converted.
    assert _parse(q, "\u00b2") == "\u00b2"
    assert _parse(q, "9" * 5000) == "9" * 5000


def test_fhir_carries_not_sure_and_reads_it_back(engine: Engine) -> None:
    state = answered(
        engine, [*QUIET_START, ("worse_with", {"ticked": ["stairs"], "not_sure": ["activity"]})]
    )
    response = questionnaire_response(engine, state, datetime(2026, 1, 1, tzinfo=UTC))
    item = next(i for i in response.item or [] if i.linkId == "worse_with")
    codes = [a.valueCoding.code for a in item.answer or [] if a.valueCoding is not None]
    assert codes == ["stairs", "not_sure:activity"]
    again = case_from_response(engine, json.loads(response.model_dump_json()))
    assert again.answers == state.answers
