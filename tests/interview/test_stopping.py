"""The stopping rule: each clause on hand-made evaluations, and end to end on the real model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kneesource.case import Case
from kneesource.engine import Engine, default_engine
from kneesource.inference.exact import Posterior
from kneesource.interview import answer, next_question, start, stop_reason
from kneesource.interview.flow import _stop
from kneesource.interview.selection import Baseline, Evaluation
from kneesource.interview.state import DONT_KNOW
from kneesource.interview.triage_link import question_bank


def _baseline(probs: list[float]) -> Baseline:
    post = Posterior(np.array(probs), np.zeros(5), {}, 0.0)
    return Baseline(Case(40), post, 0)


def _evaluation(engine: Engine, triage: bool, top3: bool, gain: float) -> Evaluation:
    spec = question_bank(engine).get("knee_swelling")
    return Evaluation(spec, (), gain, 0.0, 0.0, triage, top3, gain)


def test_triage_change_keeps_the_interview_open(engine: Engine) -> None:
    bank = question_bank(engine)
    clear = _baseline([0.99, 0.01, 0.01])
    assert _stop(clear, [_evaluation(engine, True, False, 0.0)], bank) is None


def test_each_clause(engine: Engine) -> None:
    bank = question_bank(engine)
    p = bank.policy
    # Hand values on either side of the policy numbers from questions.yaml.
    leader = [p.clear_probability + 0.01, p.clear_probability + 0.01 - p.clear_margin - 0.01]
    busy = _evaluation(engine, False, True, 1.0)
    assert _stop(_baseline([*leader, 0.0]), [busy], bank) == "leader_clear"
    close = [0.5, 0.45, 0.4]
    assert _stop(_baseline(close), [busy], bank) is None
    assert _stop(_baseline(close), [_evaluation(engine, False, False, 1.0)], bank) == (
        "top3_settled"
    )
    small = _evaluation(engine, False, True, p.min_gain_bits / 2)
    assert _stop(_baseline(close), [small], bank) == "little_to_gain"


ANSWERS = st.sampled_from(["yes", "no", DONT_KNOW])


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(age=st.integers(5, 95), seed=st.integers(0, 2**16))
def test_every_interview_stops_within_the_hard_maximum(age: int, seed: int) -> None:
    engine = default_engine()
    bank = question_bank(engine)
    rng = np.random.default_rng(seed)
    state = answer(start(engine), "age", age)
    while (q := next_question(state)) is not None:
        assert not state.answered(q.id)
        # Past the maximum only warning-sign follow-ups may still be asked.
        assert len(state.answers) < bank.policy.max_questions or q.phase == "screen"
        spec = bank.get(q.id)
        if spec.type == "yes_no":
            value: object = str(rng.choice(["yes", "no", DONT_KNOW], p=[0.2, 0.7, 0.1]))
        elif spec.type == "single" or spec.type == "sex":
            value = spec.options[0].id if spec.options else "female"
        else:
            value = []
        state = answer(state, q.id, value)
    assert stop_reason(state) is not None


@pytest.mark.parametrize("flag", ["saddle", "bladder_bowel"])
def test_a_red_flag_is_never_missed(flag: str) -> None:
    engine = default_engine()
    state = start(engine)
    for qid, value in [("age", 45), ("sex", "male"), ("where", "back"), ("sports", [])]:
        state = answer(state, qid, value)
    state = answer(state, "screen_nerves", [flag])
    while (q := next_question(state)) is not None:
        spec = question_bank(engine).get(q.id)
        state = answer(state, q.id, [] if spec.type == "multi" else DONT_KNOW)
    from kneesource.interview import assessment

    result = assessment(state)
    assert result.triage is not None and result.triage.level == "emergency"
