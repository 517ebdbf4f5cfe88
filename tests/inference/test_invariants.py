"""Invariants of exact inference on the shipped model (Hypothesis draws the evidence).

- every posterior is a probability;
- the order in which findings are given does not matter;
- a finding whose likelihood ratio is 1 (a leak-only finding) changes nothing;
- extreme, improbable evidence stays finite and exact (no cancellation).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kneesource.engine import default_engine
from kneesource.inference.exact import posterior, posterior_batch
from kneesource.model.compiled import Person
from tests.random_models import brute_force, random_model

MODEL = default_engine().model
FINDINGS = st.dictionaries(
    st.sampled_from(MODEL.finding_ids), st.booleans(), min_size=0, max_size=10
)
PEOPLE = st.builds(Person, age=st.integers(0, 120), sex=st.sampled_from([None, "female", "male"]))


@settings(max_examples=60, deadline=None)
@given(person=PEOPLE, findings=FINDINGS)
def test_posteriors_are_probabilities(person: Person, findings: dict[str, bool]) -> None:
    post = posterior(MODEL, person, findings)
    for values in (post.conditions, post.roots, np.array(list(post.sources.values()))):
        assert np.all((values >= 0.0) & (values <= 1.0))
    assert np.isfinite(post.log_evidence)
    # At least one condition of a group present is at least as likely as any single one.
    for group, p in post.sources.items():
        members = [i for i, g in enumerate(MODEL.groups) if g == group]
        assert p >= max(post.conditions[members]) - 1e-9


@settings(max_examples=40, deadline=None)
@given(person=PEOPLE, findings=FINDINGS, seed=st.integers(0, 2**32 - 1))
def test_order_of_findings_does_not_matter(
    person: Person, findings: dict[str, bool], seed: int
) -> None:
    items = list(findings.items())
    np.random.default_rng(seed).shuffle(items)
    a = posterior(MODEL, person, findings)
    b = posterior(MODEL, person, dict(items))
    np.testing.assert_allclose(a.conditions, b.conditions, atol=1e-12)
    np.testing.assert_allclose(a.roots, b.roots, atol=1e-12)


def test_finding_with_likelihood_ratio_one_changes_nothing() -> None:
    # In random_model(11), make a finding with no parents: P(f | anything) = leak, so LR = 1.
    base = random_model(11, n=6, n_findings=8)
    parentless = [
        j
        for j in range(len(base.finding_ids))
        if not base.condition_finding[:, j].any() and not base.root_finding[:, j].any()
    ]
    model = base
    if not parentless:
        cf = base.condition_finding.copy()
        rf = base.root_finding.copy()
        cf[:, 0] = 0.0
        rf[:, 0] = 0.0
        cf.setflags(write=False)
        rf.setflags(write=False)
        model = replace(base, condition_finding=cf, root_finding=rf)
        parentless = [0]
    fid = model.finding_ids[parentless[0]]
    person = Person(age=50)
    evidence = {model.finding_ids[3]: True, model.finding_ids[5]: False}
    without = posterior(model, person, evidence)
    for value in (True, False):
        with_it = posterior(model, person, {**evidence, fid: value})
        np.testing.assert_allclose(with_it.conditions, without.conditions, atol=1e-12)
        np.testing.assert_allclose(with_it.roots, without.roots, atol=1e-12)


def test_improbable_evidence_stays_exact() -> None:
    # Every finding present: P(evidence) is astronomically small, yet the posteriors still match
    # brute-force enumeration, because no term of the computation is ever subtracted.
    base = random_model(5, n=6, n_findings=14, density=0.2)
    leak = np.full(len(base.finding_ids), 1e-5)
    logit = base.base_logit - 4.0
    leak.setflags(write=False)
    logit.setflags(write=False)
    model = replace(base, finding_leak=leak, base_logit=logit)
    person = Person(age=30)
    evidence = dict.fromkeys(model.finding_ids, True)
    conds, roots, _, log_z = brute_force(model, person, evidence)
    post = posterior(model, person, evidence)
    assert log_z < -20
    np.testing.assert_allclose(post.conditions, conds, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(post.roots, roots, rtol=1e-9, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(cases=st.lists(st.tuples(PEOPLE, FINDINGS), min_size=1, max_size=8))
def test_batch_equals_one_by_one(cases: list[tuple[Person, dict[str, bool]]]) -> None:
    for got, (person, findings) in zip(posterior_batch(MODEL, cases), cases, strict=True):
        one = posterior(MODEL, person, findings)
        np.testing.assert_allclose(got.conditions, one.conditions, atol=1e-10)
        np.testing.assert_allclose(got.roots, one.roots, atol=1e-10)
