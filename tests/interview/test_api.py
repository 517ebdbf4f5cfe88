"""The library API: order, purity, determinism, bad answers, and exact numbers in ``why``."""

from __future__ import annotations

import json
import re

import numpy as np
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
from kneesource.interview.questions import QuestionSpec
from kneesource.interview.screening import approximate_presence
from kneesource.interview.selection import Baseline, reading_order
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
    flow._plan.cache_clear(engine)
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


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("9" * 5000, "got a number far beyond 0-120"),  # int() itself refuses over 4,300 digits
        ("\u00b2", "got '\u00b2'"),  # a superscript two: a digit to str.isdigit, not to int()
        ("x" * 500, "got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"),  # shown cut short
    ],
)
def test_an_age_no_person_could_type_is_refused_by_name(
    engine: Engine, typed: str, message: str
) -> None:
    with pytest.raises(InvalidAnswerError, match=re.escape(message)):
        answer(start(engine), "age", typed)


def test_an_age_in_other_decimal_digits_or_with_zeros_is_read(engine: Engine) -> None:
    assert answer(start(engine), "age", "\u0663\u0664").value("age") == 34  # Arabic-Indic
    assert answer(start(engine), "age", "034").value("age") == 34


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


def _outcome_evidence(
    engine: Engine, spec: QuestionSpec, value: object, known: dict[str, bool], baseline: Baseline
) -> dict[str, bool]:
    """The findings an outcome stands for: a yes/no answer, a single choice's findings, or for
    a checklist "the first option ticked" (the unknown options before it unticked; none ticked:
    all unticked), reading the options rarest first by their approximate chance now."""
    if spec.type == "yes_no":
        assert spec.finding is not None
        return {**known, spec.finding: value == "yes"}
    if spec.type == "single":
        chosen = next(o for o in spec.options if o.id == value)
        return {**known, **(chosen.sets or {})}
    assert spec.type == "multi" and isinstance(value, tuple)
    presence = approximate_presence(engine.model, baseline.posterior.conditions)
    out = dict(known)
    for option in reading_order(engine.model, spec, presence):
        finding = str(option.finding)
        if finding in known:
            continue
        out[finding] = option.id in value
        if option.id in value:
            break
    return out


def test_every_scored_outcome_is_the_exact_posterior(engine: Engine) -> None:
    # Expected values: independent exact inference of each outcome's findings. A yes/no "yes"
    # and a checklist's "first ticked" come from the mixture identity, so this checks it.
    state = answered(engine, QUIET_START)
    plan = flow.plan(state)
    assert plan.baseline is not None and plan.evaluations
    case = case_of(question_bank(engine), state)
    person, known = case.person(engine.model), case.evidence(engine.model)
    types = set()
    for evaluation in plan.evaluations:
        spec = evaluation.question
        if spec.sets_context():
            continue  # answers that change priors: checked in test_sports
        types.add(spec.type)
        assert sum(o.probability for o in evaluation.outcomes) == pytest.approx(1.0, abs=1e-9)
        for o in evaluation.outcomes:
            evidence = _outcome_evidence(engine, spec, o.value, known, plan.baseline)
            exact = posterior(engine.model, person, evidence)
            assert o.posterior.conditions == pytest.approx(exact.conditions, abs=1e-7)
            p = np.exp(exact.log_evidence - plan.baseline.posterior.log_evidence)
            assert o.probability == pytest.approx(p, abs=1e-9)
    assert {"yes_no", "multi"} <= types


def test_a_checklist_is_read_rarest_first(engine: Engine) -> None:
    # A checklist is scored on its first ticked option, reading the options by their chance of
    # being present, rarest first: the first outcome is the rarest option ticked, and its
    # probability is that finding's own chance given the answers (exact inference).
    state = answered(engine, QUIET_START)
    plan = flow.plan(state)
    assert plan.baseline is not None
    case = case_of(question_bank(engine), state)
    person, known = case.person(engine.model), case.evidence(engine.model)
    model = engine.model
    presence = approximate_presence(model, plan.baseline.posterior.conditions)
    not_file_order = 0
    checklists = [
        e for e in plan.evaluations if e.question.type == "multi" and not e.question.sets_context()
    ]
    assert checklists
    for evaluation in checklists:
        options = [o for o in evaluation.question.options if str(o.finding) not in known]
        rarest = min(options, key=lambda o: presence[model.finding_index(str(o.finding))])
        first = evaluation.outcomes[0]
        assert first.value == (rarest.id,)
        absent = posterior(model, person, {**known, str(rarest.finding): False})
        chance = 1.0 - np.exp(absent.log_evidence - plan.baseline.posterior.log_evidence)
        assert first.probability == pytest.approx(chance, abs=1e-9)
        not_file_order += rarest is not options[0]
    assert not_file_order > 0  # the reading order is not the file order here


def test_why_numbers_are_the_exact_posteriors(engine: Engine) -> None:
    state = answered(engine, QUIET_START)
    baseline = flow.plan(state).baseline
    q = next_question(state)
    assert q is not None and q.why.separates and baseline is not None
    spec = question_bank(engine).get(q.id)
    case = case_of(question_bank(engine), state)
    ids = engine.model.condition_ids
    labels: dict[str, object] = {"yes": "yes", "no": "no", "nothing is ticked": ()}
    ids_of = {o.label: o.id for o in spec.options}
    # The reading order of a checklist: unanswered options, rarest first.
    presence = approximate_presence(engine.model, baseline.posterior.conditions)
    order = [
        o.id
        for o in reading_order(engine.model, spec, presence)
        if str(o.finding) not in case.findings
    ]
    for shift in q.why.separates:
        i = ids.index(shift.condition)
        now = posterior(engine.model, case.person(engine.model), case.evidence(engine.model))
        assert shift.now == pytest.approx(now.conditions[i], abs=1e-9)
        for label, p in shift.after:
            if label not in labels:  # “X” is ticked [but not “A” or “B”, read before it]
                ticked, _, rest = label.removeprefix("“").partition("” is ticked")
                labels[label] = (ids_of[ticked],)
                read_before = order[: order.index(ids_of[ticked])]
                named = " or ".join(f"“{o.label}”" for o in spec.options if o.id in read_before)
                assert rest == (f" but not {named}" if read_before else "")
            ev = _outcome_evidence(
                engine, spec, labels[label], case.evidence(engine.model), baseline
            )
            exact = posterior(engine.model, case.person(engine.model), ev).conditions[i]
            assert p == pytest.approx(exact, abs=1e-7)
    assert shift.name in q.why.text
    assert "bits" in q.why.text


def test_assessment_carries_the_triage(engine: Engine) -> None:
    state = answered(engine, [*QUIET_START[:4], ("screen_nerves", ["saddle"])])
    result = assessment(state)
    assert result.triage is not None and result.triage.level == "emergency"


def test_the_same_answers_are_assessed_once(engine: Engine) -> None:
    # The result page, its report and the API's last answer read the same assessment: the second
    # call returns the first one, equal to assessing the answers afresh (engine.assess).
    state = answered(engine, QUIET_START)
    first = assessment(state)
    assert assessment(state) is first
    fresh = engine.assess(case_of(question_bank(engine), state))
    assert first.to_dict() == fresh.to_dict()
    # Another case id (the interview's, for a report) is another assessment.
    assert assessment(state, "abc").case.case_id == "abc"


def test_what_the_person_does_not_know_is_not_asked_again(engine: Engine) -> None:
    # "Don't know" to a checklist: none of its four findings comes back as a question of its
    # own. "Don't know" to the screen's knee checklist: its findings can still be asked, as
    # some of them complete warning signs.
    bank = question_bank(engine)
    state = answered(engine, [*QUIET_START, ("worse_with", "dont_know")])
    ids = {q.id for q in flow.askable(bank, state)}
    for finding in bank.get("worse_with").findings():
        assert finding not in ids
    assert "pain_stairs_squatting" in {q.id for q in flow.askable(bank, back(state))}
    unsure_screen = answered(engine, [*QUIET_START, ("screen_knee", "dont_know")])
    assert {"knee_swelling", "knee_warmth"} <= {q.id for q in flow.askable(bank, unsure_screen)}
    # A checklist still asks when some of its findings are neither known nor doubted.
    state = answered(engine, [*QUIET_START, ("pain_stairs_squatting", "dont_know")])
    assert "worse_with" in {q.id for q in flow.askable(bank, state)}


def test_a_checklist_does_not_offer_again_what_an_earlier_answer_settled(engine: Engine) -> None:
    # "A dull ache that is hard to pin down" ticked where it hurts: the kinds-of-pain checklist
    # no longer offers its own "dull, deep ache", and answering it without that option keeps it.
    from kneesource.interview.flow import askable
    from kneesource.interview.state import findings_of

    bank = question_bank(engine)
    state = answer(answer(answer(start(engine), "age", 50), "sex", "female"), "where", ["all_over"])
    kinds = next(q for q in askable(bank, state) if q.id == "pain_kind")
    assert "dull" not in [o.id for o in kinds.options]
    assert [o.id for o in kinds.options] == [
        o.id for o in bank.get("pain_kind").options if o.id != "dull"
    ]
    after = answer(state, "pain_kind", ["sharp"])
    known = findings_of(bank, after)
    assert known["pain_dull_diffuse_ache"] is True and known["pain_sharp_focal"] is True
    assert known["pain_burning_electric"] is False
    # Where nothing was settled ("don't know" where it hurts), every option is offered.
    other = answer(answer(answer(start(engine), "age", 50), "sex", "female"), "where", "dont_know")
    kinds = next(q for q in askable(bank, other) if q.id == "pain_kind")
    assert len(kinds.options) == len(bank.get("pain_kind").options)


def test_no_question_about_the_injury_after_no_injury(engine: Engine) -> None:
    # Pain that came on gradually, every kind of injury unticked: "After the injury, ..." is
    # not asked; after a twist it can be.
    from kneesource.interview.flow import askable

    bank = question_bank(engine)
    opening = answer(answer(start(engine), "age", 40), "sex", "male")
    gradual = answer(opening, "onset", ["gradual"])
    twist = answer(opening, "onset", ["twist"])
    after_injury = {"pain_built_up_days_after_injury", "swelling_within_hours"}
    assert not after_injury & {q.id for q in askable(bank, gradual)}
    assert after_injury <= {q.id for q in askable(bank, twist)} | {
        q.id for q in bank.questions if q.id in after_injury and twist.answered(q.id)
    }
