"""The top-three term of the score: its definition by hand, and on real evaluations."""

from __future__ import annotations

import numpy as np
import pytest

from kneesource.engine import Engine
from kneesource.interview.flow import plan
from kneesource.interview.selection import top3, top3_mass
from kneesource.interview.triage_link import question_bank, quick_level_function

from .conftest import QUIET_START, answered


def test_top3_mass_by_hand() -> None:
    # The three largest of 0.1, 0.5, 0.05, 0.3, 0.2 are 0.5, 0.3 and 0.2.
    assert top3_mass(np.array([0.1, 0.5, 0.05, 0.3, 0.2])) == pytest.approx(1.0)
    assert top3_mass(np.array([0.4, 0.1])) == pytest.approx(0.5)


def test_gain_top3_matches_its_outcomes(engine: Engine) -> None:
    p = plan(answered(engine, QUIET_START))
    assert p.baseline is not None and p.evaluations
    policy = question_bank(engine).policy
    for e in p.evaluations:
        now = top3_mass(p.baseline.posterior.conditions)
        if e.question.sets_context():  # measured from the mixture of its answers (test_sports)
            now = top3_mass(sum(o.probability * o.posterior.conditions for o in e.outcomes))
        expected = sum(o.probability * top3_mass(o.posterior.conditions) for o in e.outcomes)
        # The best top three after an answer is at least as good as today's three, so the
        # expected gain is never negative (up to rounding), and the score carries it.
        assert expected - now >= -1e-9
        assert e.gain_top3 == pytest.approx(max(0.0, expected - now), abs=1e-12)
        rest = e.gain_conditions + policy.source_weight * e.gain_source
        rest += policy.triage_weight * e.triage_change
        assert e.score == pytest.approx(rest + policy.top3_weight * e.gain_top3)


def test_each_clause_reads_answers_above_its_own_floor(engine: Engine) -> None:
    # The triage clause counts answers from answer_floor (1 in 20), the top-three clause only
    # from top3_answer_floor (1 in 10): both recomputed here from every evaluation's outcomes.
    policy = question_bank(engine).policy
    assert policy.answer_floor < policy.top3_answer_floor
    p = plan(answered(engine, QUIET_START))
    assert p.baseline is not None and p.evaluations
    now_top3 = top3(p.baseline.posterior.conditions)
    now_level = quick_level_function(engine)(p.baseline.case, p.baseline.posterior)
    between = 0
    for e in p.evaluations:
        moves = [
            (o.probability, top3(o.posterior.conditions) != now_top3, o.level != now_level)
            for o in e.outcomes
        ]
        assert e.changes_top3 == any(top and pr >= policy.top3_answer_floor for pr, top, _ in moves)
        assert e.changes_triage == any(lvl and pr >= policy.answer_floor for pr, _, lvl in moves)
        between += any(
            top and policy.answer_floor <= pr < policy.top3_answer_floor for pr, top, _ in moves
        )
    # The floors matter here: some answer between them would reorder the top three.
    assert between > 0
