"""Exact inference agrees with brute-force enumeration of the joint distribution."""

from __future__ import annotations

import numpy as np
import pytest

from kneesource.inference.exact import posterior, posterior_batch
from kneesource.model.compiled import Person
from tests.random_models import brute_force, random_model


def _random_evidence(model, rng, k):
    ids = rng.choice(len(model.finding_ids), size=k, replace=False)
    return {model.finding_ids[i]: bool(rng.random() < 0.5) for i in ids}


@pytest.mark.parametrize("seed", range(12))
def test_single_case_matches_enumeration(seed: int) -> None:
    model = random_model(seed)
    rng = np.random.default_rng(100 + seed)
    person = Person(age=int(rng.integers(0, 100)), sex="female" if seed % 2 else "male")
    evidence = _random_evidence(model, rng, k=int(rng.integers(0, 9)))
    conds, roots, sources, log_z = brute_force(model, person, evidence)
    post = posterior(model, person, evidence)
    np.testing.assert_allclose(post.conditions, conds, atol=1e-10)
    np.testing.assert_allclose(post.roots, roots, atol=1e-10)
    for g, v in sources.items():
        assert post.sources[g] == pytest.approx(v, abs=1e-10)
    assert post.log_evidence == pytest.approx(log_z, abs=1e-9)


def test_batch_matches_single_cases() -> None:
    model = random_model(7, n=8, n_findings=14)
    rng = np.random.default_rng(3)
    cases = [
        (
            Person(age=int(rng.integers(0, 100))),
            _random_evidence(model, rng, int(rng.integers(0, 10))),
        )
        for _ in range(40)
    ]
    batch = posterior_batch(model, cases)
    for (person, ev), got in zip(cases, batch, strict=True):
        one = posterior(model, person, ev)
        np.testing.assert_allclose(got.conditions, one.conditions, atol=1e-10)
        np.testing.assert_allclose(got.roots, one.roots, atol=1e-10)
        assert got.log_evidence == pytest.approx(one.log_evidence, abs=1e-9)
        for g in one.sources:
            assert got.sources[g] == pytest.approx(one.sources[g], abs=1e-10)
