"""The sports checklist: an adaptive question that changes priors rather than findings.

Expected values come from Bayes' rule worked by hand: with no findings yet, every set of sports
explains the answers equally well, so each answer is exactly as likely as the prevalences make
it; with findings, ``P(a | answers) = prevalence(a) P(answers | a) / Σ_b prevalence(b)
P(answers | b)``, each ``P(answers | a)`` from an exact posterior run under that set's priors.
"""

from __future__ import annotations

import numpy as np
import pytest

from kneesource.case import Case
from kneesource.engine import Engine
from kneesource.inference.exact import posterior
from kneesource.interview import answer, next_question, start
from kneesource.interview.flow import plan
from kneesource.interview.screening import approximate_scores
from kneesource.interview.selection import (
    Evaluation,
    baseline_of,
    entropy_bits,
    evaluate,
    outcome_values,
)
from kneesource.interview.simulate import simulated_answer
from kneesource.interview.triage_link import question_bank, quick_level_function
from kneesource.model.compiled import Person

# Prevalences of the shipped question for a teenager (10-17): running, jumping, pivoting.
TEEN = {"activity_running": 0.2, "activity_jumping_sport": 0.1, "activity_pivoting_sport": 0.3}


def _sports(engine: Engine, case: Case) -> Evaluation:
    bank = question_bank(engine)
    baseline = baseline_of(engine.model, case, quick_level_function(engine))
    (evaluation,) = evaluate(
        engine.model, bank.policy, baseline, [bank.get("sports")], quick_level_function(engine)
    )
    return evaluation


def test_with_no_findings_answers_are_as_likely_as_the_prevalences(engine: Engine) -> None:
    evaluation = _sports(engine, Case(15, "male", {}))
    assert len(evaluation.outcomes) == 8
    for o in evaluation.outcomes:
        ticked = {f for f, v in o.case.findings.items() if v}
        by_hand = np.prod([p if f in ticked else 1 - p for f, p in TEEN.items()])
        assert o.probability == pytest.approx(by_hand, abs=1e-12)
    nothing = next(o for o in evaluation.outcomes if o.value == ())
    assert nothing.probability == pytest.approx(0.8 * 0.9 * 0.7)  # 0.504
    # Each outcome is the prior of that sporting teenager: no evidence, nothing to update.
    jumper = next(o for o in evaluation.outcomes if o.value == ("jumping",))
    person = Person(15, "male", frozenset({"activity_jumping_sport"}))
    assert jumper.posterior.conditions == pytest.approx(engine.model.priors(person), abs=1e-9)


def test_with_findings_the_answers_follow_bayes_rule(engine: Engine) -> None:
    findings = {"pain_below_kneecap": True, "pain_after_jumping": True, "back_pain": False}
    case = Case(16, "male", findings)
    evaluation = _sports(engine, case)
    weights = {}
    for value, sets in outcome_values(question_bank(engine).get("sports")):
        acts = frozenset(f for f, v in sets.items() if v)
        z = posterior(engine.model, Person(16, "male", acts), findings).log_evidence
        weights[value] = np.prod([TEEN[f] if v else 1 - TEEN[f] for f, v in sets.items()]) * (
            np.exp(z)
        )
    total = sum(weights.values())
    for o in evaluation.outcomes:
        assert o.probability == pytest.approx(weights[o.value] / total, rel=1e-9)
    # Pain below the kneecap after jumping makes a jumping sport far likelier than 1 in 10.
    jumps = sum(o.probability for o in evaluation.outcomes if "jumping" in o.value)
    assert jumps > 0.2
    # The gain is measured from the mixture of the answers, what the findings say about them.
    mixture = sum(o.probability * o.posterior.conditions for o in evaluation.outcomes)
    after = sum(o.probability * entropy_bits(o.posterior.conditions) for o in evaluation.outcomes)
    assert evaluation.gain_conditions == pytest.approx(entropy_bits(mixture) - after, abs=1e-9)


def test_the_first_pass_is_exact_before_any_finding(engine: Engine) -> None:
    # With no findings the posterior is the prior, conditions are independent, and the first
    # pass's change of prior odds is exact: its gain equals the exact evaluation's.
    case = Case(15, "male", {})
    person = case.person(engine.model)
    spec = question_bank(engine).get("sports")
    serious = np.zeros(engine.model.n_conditions)
    ((gain, _),) = approximate_scores(
        engine.model, person, engine.model.priors(person), [spec], serious
    )
    assert gain == pytest.approx(_sports(engine, case).gain_conditions, abs=1e-9)


def test_a_checklist_that_makes_a_condition_possible_is_scored_exactly(engine: Engine) -> None:
    # Under 50 the knee-replacement checklist is adaptive; without a replacement the implant's
    # problems have a prior of zero (prior.requires), and a tick makes them possible. The first
    # pass must score that as the exact evaluation does (it divided by the zero prior before).
    case = Case(40, "female", {})
    person = case.person(engine.model)
    bank = question_bank(engine)
    spec = bank.get("knee_replacement_under_50")
    serious = np.zeros(engine.model.n_conditions)
    ((gain, shift),) = approximate_scores(
        engine.model, person, engine.model.priors(person), [spec], serious
    )
    baseline = baseline_of(engine.model, case, quick_level_function(engine))
    (exact,) = evaluate(engine.model, bank.policy, baseline, [spec], quick_level_function(engine))
    assert np.isfinite(gain) and np.isfinite(shift) and gain > 0.0
    assert gain == pytest.approx(exact.gain_conditions, abs=1e-9)


def _asked(engine: Engine, case: Case) -> list[str]:
    bank = question_bank(engine)
    state, asked = start(engine), []
    while (q := next_question(state)) is not None:
        asked.append(q.id)
        state = answer(state, q.id, simulated_answer(bank.get(q.id), case))
    assert plan(state).stop_reason is not None
    return asked


def test_sports_is_asked_when_it_matters_and_not_when_it_does_not(engine: Engine) -> None:
    # A young man with pain below the kneecap after jumping, on stairs and with activity: which
    # sport he plays is worth asking. An 80-year-old woman with a swollen calf after bed rest
    # is not asked about sport.
    jumper = {
        "pain_below_kneecap": True,
        "pain_after_jumping": True,
        "pain_stairs_squatting": True,
        "pain_worse_with_activity_better_rest": True,
        "activity_jumping_sport": True,
        "activity_running": False,
        "activity_pivoting_sport": False,
    }
    assert "sports" in _asked(engine, Case(25, "male", jumper))
    calf = {"calf_pain": True, "calf_swelling": True, "bedridden_or_major_surgery_recently": True}
    assert "sports" not in _asked(engine, Case(80, "female", calf))
