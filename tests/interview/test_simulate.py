"""The simulated patient says what its case says, and "don't know" for the rest."""

from __future__ import annotations

from kneesource.case import Case
from kneesource.engine import Engine
from kneesource.interview.simulate import simulated_answer
from kneesource.interview.state import DONT_KNOW, PartChecklist
from kneesource.interview.triage_link import question_bank


def _answer(engine: Engine, question: str, findings: dict[str, bool]) -> object:
    return simulated_answer(question_bank(engine).get(question), Case(40, "female", findings))


def test_yes_no(engine: Engine) -> None:
    assert _answer(engine, "locking", {"locking": True}) == "yes"
    assert _answer(engine, "locking", {"locking": False}) == "no"
    assert _answer(engine, "locking", {}) == DONT_KNOW


def test_a_checklist_says_none_only_when_the_case_rules_every_option_out(engine: Engine) -> None:
    # knee_mechanics: locking, giving_way, catching_clicking, knee_crepitus.
    every_one = {"locking": False, "giving_way": False, "catching_clicking": False}
    assert _answer(engine, "knee_mechanics", {**every_one, "knee_crepitus": False}) == ()
    # One option left out: "none of these" would claim it absent too, so it is "not sure".
    assert _answer(engine, "knee_mechanics", every_one) == PartChecklist((), ("grinds",))
    assert _answer(engine, "knee_mechanics", {}) == DONT_KNOW


def test_a_checklist_ticks_what_is_present_and_is_not_sure_of_what_the_case_leaves_out(
    engine: Engine,
) -> None:
    unsure = ("sticks", "gives_way", "catches")
    assert _answer(engine, "knee_mechanics", {"knee_crepitus": True}) == PartChecklist(
        ("grinds",), unsure
    )
    both = {"locking": True, "knee_crepitus": True, "giving_way": False}
    assert _answer(engine, "knee_mechanics", both) == PartChecklist(
        ("sticks", "grinds"), ("catches",)
    )
    every = {**both, "catching_clicking": False}
    assert _answer(engine, "knee_mechanics", every) == ("sticks", "grinds")


def test_a_single_choice_is_answered_only_when_the_case_allows_one_option(engine: Engine) -> None:
    # swelling_timing: within hours / the next day or later / neither.
    assert _answer(engine, "swelling_timing", {"swelling_within_hours": True}) == "hours"
    assert _answer(engine, "swelling_timing", {"swelling_next_day_or_gradual": True}) == "later"
    neither = {"swelling_within_hours": False, "swelling_next_day_or_gradual": False}
    assert _answer(engine, "swelling_timing", neither) == "none"
    # Not within hours: later, or not at all; the case does not say which.
    assert _answer(engine, "swelling_timing", {"swelling_within_hours": False}) == DONT_KNOW
    assert _answer(engine, "swelling_timing", {}) == DONT_KNOW
