"""A simulated patient: answers every question truthfully from a case.

Findings the case leaves out are answered "don't know", and nothing is said that the case does
not say. A single choice is answered with its one option that the case allows (it sets some
finding the case knows, and none against the case); "don't know" when the case allows several
or none. A checklist ticks the options whose finding is present and marks "not sure" those the
case is silent on (every other option is absent in the case); "don't know" when the case is
silent on every option.
"""

from __future__ import annotations

from collections.abc import Callable

from kneesource.case import Case
from kneesource.interview.flow import Question, answer, next_question
from kneesource.interview.questions import QuestionSpec
from kneesource.interview.state import DONT_KNOW, NOT_GIVEN, PartChecklist, State, Value


def simulated_answer(spec: QuestionSpec, case: Case) -> Value:
    known = case.findings
    if spec.type == "age":
        return case.age
    if spec.type == "sex":
        return case.sex or NOT_GIVEN
    if spec.type == "yes_no":
        assert spec.finding is not None
        if spec.finding not in known:
            return DONT_KNOW
        return "yes" if known[spec.finding] else "no"
    if spec.type == "single":
        allowed = [
            o for o in spec.options if all(known.get(f, v) == v for f, v in (o.sets or {}).items())
        ]
        if len(allowed) == 1 and any(f in known for f in allowed[0].sets or {}):
            return allowed[0].id
        return DONT_KNOW
    pairs = [(o.id, str(o.finding)) for o in spec.options]
    if not any(f in known for _, f in pairs):
        return DONT_KNOW
    ticked = tuple(i for i, f in pairs if known.get(f))
    unsure = tuple(i for i, f in pairs if f not in known)
    return PartChecklist(ticked, unsure) if unsure else ticked


def run_interview(
    state: State, respond: Callable[[Question], object], limit: int = 500
) -> tuple[State, list[tuple[Question, Value]]]:
    """Ask questions until the stopping rule holds, answering each with ``respond``.

    Returns the final state and the questions asked with the answers recorded."""
    asked: list[tuple[Question, Value]] = []
    for _ in range(limit):
        question = next_question(state)
        if question is None:
            break
        state = answer(state, question.id, respond(question))
        value = state.value(question.id)
        assert value is not None
        asked.append((question, value))
    return state, asked
