"""Forward sampling reproduces the model's exact marginals (seeded, within binomial error).

Expected values: condition frequencies against the consulting priors (the complaint keeps them
as they are) and against q / (1 - prod(1 - q)), for the population priors q worked out in
``tests.random_models``, when at least one condition is required; finding frequencies against
1 - exp(log P(finding absent)) from exact inference, an independent computation.
"""

from __future__ import annotations

import numpy as np
import pytest

from kneesource.engine import default_engine
from kneesource.errors import InputError, UnknownIdError
from kneesource.evaluation.simulator import (
    Observation,
    PersonSampler,
    observe,
    sample_states,
    simulate,
)
from kneesource.inference.exact import posterior
from kneesource.model.compiled import Person
from tests.random_models import population_priors, random_model

N = 20_000


def _within(freq: np.ndarray, p: np.ndarray, n: int) -> None:
    # 4.5 binomial standard errors, plus a floor for probabilities near 0 or 1
    se = np.sqrt(np.maximum(p * (1 - p), 1e-4) / n)
    assert np.all(np.abs(freq - p) <= 4.5 * se), (freq, p)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_condition_and_finding_frequencies_match_exact_marginals(seed: int) -> None:
    model = random_model(seed, n=6, n_findings=10)
    person = Person(age=40, sex="female")
    priors = model.priors(person)
    conds, _, findings = sample_states(model, np.tile(priors, (N, 1)), np.random.default_rng(seed))
    _within(conds.mean(axis=0), priors, N)
    exact = np.array(
        [1.0 - np.exp(posterior(model, person, {f: False}).log_evidence) for f in model.finding_ids]
    )
    _within(findings.mean(axis=0), exact, N)


def test_root_frequencies_match_exact_marginals() -> None:
    model = random_model(5, n=6, n_findings=10)
    person = Person(age=70)
    _, roots, _ = sample_states(
        model, np.tile(model.priors(person), (N, 1)), np.random.default_rng(9)
    )
    exact = posterior(model, person, {}).roots  # no evidence: the prior marginals
    _within(roots.mean(axis=0), exact, N)


def test_requiring_a_condition_renormalises_the_priors() -> None:
    model = random_model(3, n=6, n_findings=8)
    priors = model.priors(Person(age=30))
    conds, _, _ = sample_states(
        model, np.tile(priors, (N, 1)), np.random.default_rng(4), require_condition=True
    )
    assert conds.any(axis=1).all()
    q = population_priors(model, priors)[0]
    _within(conds.mean(axis=0), q / (1.0 - np.prod(1.0 - q)), N)


def test_same_seed_same_patients_and_noise_shares() -> None:
    model = random_model(2, n=6, n_findings=40)
    a = simulate(model, 30, seed=11)
    b = simulate(model, 30, seed=11)
    assert [p.observed for p in a] == [p.observed for p in b]
    assert [p.conditions for p in a] == [p.conditions for p in b]
    assert all(p.conditions for p in a)

    rng = np.random.default_rng(0)
    truth = rng.random((2000, 40)) < 0.3
    flipped = unknown = asked = 0
    for row in truth:
        answers = observe(model, row, Observation(flip=0.2, unknown=0.25), rng)
        asked += 40
        unknown += 40 - len(answers)
        flipped += sum(v != row[model.finding_index(f)] for f, v in answers.items())
    assert unknown / asked == pytest.approx(0.25, abs=0.01)
    assert flipped / (asked - unknown) == pytest.approx(0.2, abs=0.01)


def test_observation_subset_and_present_cap() -> None:
    model = random_model(4, n=6, n_findings=20)
    subset = model.finding_ids[:5]
    for p in simulate(model, 50, seed=3, observation=Observation(observable=subset)):
        assert set(p.observed) <= set(subset)
    for p in simulate(model, 50, seed=3, observation=Observation(max_present=2)):
        assert sum(p.observed.values()) <= 2
        assert all(p.findings[f] == v for f, v in p.observed.items())  # no noise: truthful
    case = simulate(model, 1, seed=3, people=PersonSampler(activity_share=1.0))[0].case(model)
    assert case.findings["ctx_a"] is True


def test_bad_settings_are_refused() -> None:
    model = random_model(1)
    with pytest.raises(InputError):
        Observation(flip=1.5)
    with pytest.raises(InputError):
        PersonSampler(age_min=50, age_max=20)
    with pytest.raises(UnknownIdError):
        simulate(model, 3, seed=0, observation=Observation(observable=("nope",)))
    with pytest.raises(InputError):
        simulate(model, -1, seed=0)


def test_synthetic_people_do_sports_but_have_no_knee_replacement() -> None:
    # PersonSampler: each sport with chance activity_share (0.2), and the context findings of a
    # past treatment (a knee replacement, factor: history) never: it is not a simulation setting.
    model = default_engine().model
    assert set(model.sport_ids) == {
        "activity_running",
        "activity_jumping_sport",
        "activity_pivoting_sport",
    }
    assert {"prosthetic_knee", "partial_knee_replacement"} <= set(model.context_ids)
    people = [p.person for p in simulate(model, 400, 5)]
    assert all(not {"prosthetic_knee", "partial_knee_replacement"} & p.activities for p in people)
    share = sum("activity_running" in p.activities for p in people) / len(people)
    assert 0.14 < share < 0.26  # 0.2 +- 3 standard errors of 400 draws (0.02 each)
