"""Exact inference agrees with brute-force enumeration of the joint distribution, with the
compiled kernel and with its numpy version (``kernel``: both are shipped, for long runs and for
single cases)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kneesource.inference import exact, kernel_np
from kneesource.inference.exact import posterior, posterior_batch, posterior_wide
from kneesource.inference.kernel_np import MAX_BITS
from kneesource.model.compiled import Person
from tests.random_models import brute_force, random_model


@pytest.fixture(params=["numpy", "compiled"])
def kernel(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every batch of the test runs on the chosen kernel."""
    chosen = kernel_np.batch if request.param == "numpy" else exact.load_compiled()
    monkeypatch.setattr(exact, "_kernel", lambda bits, entries: chosen)
    return str(request.param)


def posterior_wide_one(model, person, evidence):
    return posterior_wide(model, person, evidence)[0]


def _random_evidence(model, rng, k):
    ids = rng.choice(len(model.finding_ids), size=k, replace=False)
    return {model.finding_ids[i]: bool(rng.random() < 0.5) for i in ids}


def _assert_enumerated(post, model, person, evidence) -> None:
    """Every marginal and the evidence probability equal brute-force enumeration's."""
    conds, roots, sources, log_z = brute_force(model, person, evidence)
    np.testing.assert_allclose(post.conditions, conds, atol=1e-10)
    np.testing.assert_allclose(post.roots, roots, atol=1e-10)
    for g, v in sources.items():
        assert post.sources[g] == pytest.approx(v, abs=1e-10)
    assert post.log_evidence == pytest.approx(log_z, abs=1e-9)


@pytest.mark.parametrize("infer", [posterior, posterior_wide_one], ids=["kernel", "buckets"])
@pytest.mark.parametrize("seed", range(12))
def test_single_case_matches_enumeration(seed: int, infer, kernel: str) -> None:
    model = random_model(seed)
    rng = np.random.default_rng(100 + seed)
    person = Person(age=int(rng.integers(0, 100)), sex="female" if seed % 2 else "male")
    evidence = _random_evidence(model, rng, k=int(rng.integers(0, 9)))
    _assert_enumerated(infer(model, person, evidence), model, person, evidence)


def test_batch_matches_single_cases(kernel: str) -> None:
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


def test_evidence_too_wide_for_the_kernel_uses_bucket_elimination_and_stays_exact(
    kernel: str,
) -> None:
    # 22 present findings + involved roots exceed the kernel's full state of MAX_BITS bits.
    model = random_model(21, n=6, n_findings=22, density=0.25)
    person = Person(age=60)
    evidence = dict.fromkeys(model.finding_ids, True)
    assert len(evidence) > MAX_BITS
    conds, roots, _, log_z = brute_force(model, person, evidence)
    for post in (
        posterior(model, person, evidence),
        posterior_batch(model, [(person, evidence)])[0],
    ):
        np.testing.assert_allclose(post.conditions, conds, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(post.roots, roots, rtol=1e-9, atol=1e-12)
        assert post.log_evidence == pytest.approx(log_z, rel=1e-9)


def test_parallel_batch_matches_serial_single_cases() -> None:
    # A batch of PARALLEL_FROM or more cases runs on worker threads; one case runs serially.
    from kneesource.inference.kernel import PARALLEL_FROM

    exact.load_compiled()
    model = random_model(9, n=8, n_findings=14)
    rng = np.random.default_rng(9)
    cases = [
        (
            Person(age=int(rng.integers(0, 100))),
            _random_evidence(model, rng, int(rng.integers(0, 10))),
        )
        for _ in range(PARALLEL_FROM + 20)
    ]
    for got, (person, ev) in zip(posterior_batch(model, cases), cases, strict=True):
        one = posterior(model, person, ev)
        np.testing.assert_array_equal(got.conditions, one.conditions)
        np.testing.assert_array_equal(got.roots, one.roots)


@pytest.mark.parametrize("seed", range(6))
def test_variants_rerun_as_blocks_match_enumeration(seed: int, kernel: str) -> None:
    # As in the shipped network, the conditions that reach the nerve roots belong to one source
    # group and share their links, so each root's variant reruns only their block of the pass.
    # Evidence avoids the first root's findings, so that root's variant is computed too.
    base = random_model(40 + seed, n=8, n_findings=12)
    rng = np.random.default_rng(seed)
    spine = [i for i, g in enumerate(base.groups) if g == "spine"]
    links = np.zeros_like(base.condition_root)
    links[spine] = rng.uniform(0.2, 0.9, (len(spine), links.shape[1]))
    links.setflags(write=False)
    model = dataclasses.replace(base, condition_root=links)
    allowed = [f for j, f in enumerate(model.finding_ids) if model.root_finding[0, j] == 0.0]
    chosen = rng.choice(allowed, size=min(len(allowed), 6), replace=False)
    evidence = {str(f): bool(rng.random() < 0.6) for f in chosen}
    person = Person(age=int(rng.integers(0, 100)))
    _assert_enumerated(posterior(model, person, evidence), model, person, evidence)
