"""Explanations leave out only the absent findings that could move a probability far enough to be
listed: the bound that clears the others holds, is exact where it can be, and clearing them
changes no assessment.

Expected values: brute-force enumeration of random networks (every joint state summed) for the
bound; for the assessments, the same cases with every finding left out one at a time (the
pruning switched off).
"""

from __future__ import annotations

import numpy as np
import pytest

import kneesource.assessment as assessment
from kneesource.assessment import MIN_EFFECT, absent_bounds, assess_cases, quiet_absent
from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.evaluation.simulator import Observation, observable_findings, simulate
from kneesource.inference.exact import Posterior, fits_kernel, posterior
from kneesource.model.compiled import Person
from tests.random_models import brute_force, random_model, sample_evidence


def _enumerated(model, person, findings) -> Posterior:  # type: ignore[no-untyped-def]
    conditions, roots, sources, log_z = brute_force(model, person, findings)
    return Posterior(conditions, roots, sources, log_z)


@pytest.mark.parametrize("seed", range(12))
def test_bound_holds_for_every_probability_and_is_exact_for_one_cause(seed: int) -> None:
    model = random_model(300 + seed, n=6, n_findings=10, density=0.3 + 0.04 * (seed % 6))
    rng = np.random.default_rng(seed)
    person = Person(age=int(rng.integers(0, 100)))
    findings = sample_evidence(model, person, rng, n_observed=7)
    base = _enumerated(model, person, findings)
    case = Case(person.age, None, findings)
    bounds = absent_bounds(model, case, base)
    assert set(bounds) == {f for f, v in findings.items() if not v}
    for f, bound in bounds.items():
        rest = {k: v for k, v in findings.items() if k != f}
        moved = _enumerated(model, person, rest)
        change = max(
            np.abs(moved.conditions - base.conditions).max(),
            np.abs(moved.roots - base.roots).max(),
            max(abs(moved.sources[g] - base.sources[g]) for g in base.sources),
        )
        assert change <= bound + 1e-12, (f, change, bound)
        j = model.finding_index(f)
        causes = np.flatnonzero(model.condition_finding[:, j])
        if len(causes) == 1 and not model.root_finding[:, j].any():
            # One cause: the bound is how far that cause's own probability moves.
            c = int(causes[0])
            assert bound == pytest.approx(moved.conditions[c] - base.conditions[c], abs=1e-12)


def _cases() -> list[Case]:
    engine = default_engine()
    model = engine.model
    rng = np.random.default_rng(7)
    ids = [f for f in model.finding_ids if f not in model.evidence_skipped]
    out = []
    for _ in range(60):  # typical: a few answers
        chosen = rng.choice(len(ids), size=int(rng.integers(2, 9)), replace=False)
        findings = {ids[j]: bool(rng.random() < 0.4) for j in chosen}
        out.append(Case(int(rng.integers(5, 90)), None, findings))
    for k in range(6):  # fully answered: everything else "no"
        present = rng.choice(len(ids), size=k + 1, replace=False)
        findings = {f: False for f in ids} | {ids[j]: True for j in present}
        out.append(Case(20 + 10 * k, "female" if k % 2 else "male", findings))
    seen = Observation(observable=observable_findings(engine.kb, "patient"))
    for p in simulate(model, 20, 4, observation=seen):  # model patients, some of them wide
        out.append(Case(p.person.age, p.person.sex, p.observed))
    return out


def test_clearing_quiet_findings_changes_no_assessment(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = default_engine()
    model = engine.model
    cases = _cases()
    pruned = assess_cases(engine.kb, model, cases)
    cleared = 0
    for case, a in zip(cases, pruned, strict=True):
        cleared += len(quiet_absent(model, case, a.posterior))
    monkeypatch.setattr(assessment, "quiet_absent", lambda *_: frozenset())
    every = assess_cases(engine.kb, model, cases)
    compared = 0
    for case, a, b in zip(cases, pruned, every, strict=True):
        if b.explained:  # (a wide case may be explained only once pruned: within its budget)
            assert a.to_dict() == b.to_dict(), case
            compared += 1
    assert compared >= 75
    assert cleared > 500  # most "no" answers of the fully answered cases are cleared


def test_a_cleared_finding_moves_nothing_by_the_listed_amount() -> None:
    # Direct check on the shipped model: each cleared finding, left out, moves every condition
    # by less than MIN_EFFECT.
    engine = default_engine()
    model = engine.model
    for case in _cases()[60:66]:
        assert fits_kernel(model, case.evidence(model))
        base = posterior(model, case.person(model), case.evidence(model))
        quiet = sorted(quiet_absent(model, case, base))
        assert quiet
        for f in quiet[:: max(1, len(quiet) // 15)]:
            moved = posterior(model, case.person(model), case.without(f).evidence(model))
            assert np.abs(moved.conditions - base.conditions).max() < MIN_EFFECT
