"""The top-three term of the score: its definition by hand, and on real evaluations."""

from __future__ import annotations

import numpy as np
import pytest

from kneesource.engine import Engine
from kneesource.interview.flow import plan
from kneesource.interview.selection import top3, top3_mass, top3_moves
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


def test_top3_moves_by_hand() -> None:
    # Floor 0.025 (1/20 of a leader at 0.5). A cause at 0.4% swapping places with one at 0.2%
    # changes the set of the three leading causes but not in a way that counts.
    before = np.array([0.5, 0.004, 0.003, 0.002])
    after = np.array([0.5, 0.002, 0.003, 0.004])
    assert top3(before) != top3(after)
    assert not top3_moves(before, after, 0.025)
    assert top3_moves(before, after, 0.0)  # without a floor, any change of the set counts
    # A cause at 15% entering counts (it is above the floor after the answer) ...
    assert top3_moves(np.array([0.5, 0.2, 0.15, 0.05]), np.array([0.5, 0.2, 0.1, 0.15]), 0.025)
    # ... and so does one at 3% leaving (above the floor before), even for one at 2.9%.
    assert top3_moves(np.array([0.5, 0.2, 0.03, 0.029]), np.array([0.5, 0.2, 0.029, 0.03]), 0.025)
    # The order within the three does not matter.
    assert not top3_moves(np.array([0.5, 0.2, 0.1]), np.array([0.1, 0.2, 0.5]), 0.0)


# Answers of a 24-year-old woman whose front-of-knee pain is worse sitting with bent knees and
# running downhill: one cause leads at about 34%, every other is below 1%.
RUNNER = (
    ("age", 24),
    ("sex", "female"),
    ("where", ["front"]),
    ("screen_nerves", []),
    ("screen_knee", []),
    ("screen_leg", []),
    ("onset", []),
    ("how_long", []),
    ("screen_self_check", []),
    ("worse_with", ["sitting_bent"]),
    ("sport_pain", ["downhill"]),
)


def test_each_clause_reads_answers_above_its_own_floor(engine: Engine) -> None:
    # The triage clause counts answers from answer_floor, the top-three clause from
    # top3_answer_floor, and only moves of causes at least top3_floor times as likely as the
    # leader: all recomputed here from every evaluation's outcomes.
    policy = question_bank(engine).policy
    assert 0.0 < policy.top3_floor < 1.0
    p = plan(answered(engine, RUNNER))
    assert p.baseline is not None and p.evaluations
    now = p.baseline.posterior.conditions
    floor = policy.top3_floor * float(now.max())
    now_level = quick_level_function(engine)(p.baseline.case, p.baseline.posterior)
    reshuffled_only = 0
    for e in p.evaluations:
        for o in e.outcomes:
            moved = top3_moves(now, o.posterior.conditions, floor)
            reshuffled_only += top3(o.posterior.conditions) != top3(now) and not moved
        assert e.changes_top3 == any(
            top3_moves(now, o.posterior.conditions, floor)
            for o in e.outcomes
            if o.probability >= policy.top3_answer_floor
        )
        assert e.changes_triage == any(
            o.level != now_level for o in e.outcomes if o.probability >= policy.answer_floor
        )
    # The floor matters here: many likely answers reorder only the causes below 1%.
    assert reshuffled_only > 0
