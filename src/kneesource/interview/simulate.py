"""A simulated patient: answers every question truthfully from a case.

Findings the case leaves out are answered "don't know". A single choice is answered with the
first option whose findings all agree with the case (and at least one is known); a multiple
choice ticks the options whose finding is present, unless the case knows none of them.
"""

from __future__ import annotations

from collections.abc import Callable

from kneesource.case import Case
from kneesource.interview.flow import Question, answer, next_question
from kneesource.interview.questions import QuestionSpec
from kneesource.interview.state import DONT_KNOW, NOT_GIVEN, State, Value


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
        for option in spec.options:
            sets = option.sets or {}
            if any(f in known for f in sets) and all(known.get(f, v) == v for f, v in sets.items()):
                return option.id
        return DONT_KNOW
    ticks = [o for o in spec.options if o.finding is not None]
    if not any(o.finding in known for o in ticks):
        return DONT_KNOW
    return tuple(o.id for o in ticks if known.get(str(o.finding), False))


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
