"""The BIF export opens in pyAgrum and pgmpy, and their exact posteriors agree with kneesource's.

Expected values come from independent libraries: pyAgrum's LazyPropagation (junction tree) on 200
evidence sets drawn from the shipped model, and pgmpy's VariableElimination on a smaller number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kneesource.engine import default_engine
from kneesource.inference.exact import posterior
from kneesource.model.bif import (
    MAX_TABLE_PARENTS,
    complaint_leak,
    complaint_nodes,
    posteriors_by_conditioning,
    to_bif,
)
from kneesource.model.bif import evidence as bif_evidence
from kneesource.model.compiled import CompiledModel, Person
from tests.random_models import random_model, sample_evidence

gum = pytest.importorskip("pyagrum")


def _pyagrum_posteriors(
    bn: object, model: CompiledModel, evidence: dict[str, bool]
) -> tuple[np.ndarray, np.ndarray]:
    engine = gum.LazyPropagation(bn)
    # Only conditions and roots are queried, so pyAgrum can prune unobserved findings.
    engine.setTargets({*model.condition_ids, *model.root_ids})
    engine.setEvidence(bif_evidence(evidence))  # the findings and the complaint present
    engine.makeInference()
    conds = np.array([engine.posterior(c)[:][1] for c in model.condition_ids])
    roots = np.array([engine.posterior(r)[:][1] for r in model.root_ids])
    return conds, roots


def _wide_chains(model: CompiledModel) -> set[str]:
    """The chain nodes of the findings with more causes than one table takes: a leak, then one
    node per cause but the last (conditions in model order, then roots)."""
    out: set[str] = set()
    for j, fid in enumerate(model.finding_ids):
        causes = [c for i, c in enumerate(model.condition_ids) if model.condition_finding[i, j]]
        causes += [r for i, r in enumerate(model.root_ids) if model.root_finding[i, j]]
        if len(causes) > MAX_TABLE_PARENTS:
            out |= {f"{fid}_leak", *(f"{fid}_upto_{c}" for c in causes[:-1])}
    return out


def test_export_uses_assess_ids_and_binary_states(tmp_path: Path) -> None:
    model = default_engine().model
    path = tmp_path / "kneesource.bif"
    path.write_text(to_bif(model, Person(age=52, sex="female")))
    bn = gum.loadBN(str(path))
    names = set(bn.names())
    chain = complaint_nodes(model)
    assert chain[-1] == "knee_region_pain"
    wide = _wide_chains(model)
    assert wide  # the shipped model has a finding with more causes than one table takes
    expected = {*model.condition_ids, *model.root_ids, *model.finding_ids, *chain, *wide}
    assert names == expected
    for name in names:
        assert list(bn.variable(name).labels()) == ["absent", "present"]
        assert len(bn.parents(name)) <= MAX_TABLE_PARENTS


def test_a_finding_written_as_a_chain_weighs_as_its_noisy_or(tmp_path: Path) -> None:
    # Expected values: pyAgrum on the export, where the finding with the most causes is a chain
    # of three-variable tables; under test, kneesource's noisy-OR of the same causes.
    model = default_engine().model
    counts = (model.condition_finding > 0).sum(axis=0) + (model.root_finding > 0).sum(axis=0)
    widest = model.finding_ids[int(np.argmax(counts))]
    assert counts.max() > MAX_TABLE_PARENTS
    person = Person(age=47, sex="male")
    path = tmp_path / "wide.bif"
    path.write_text(to_bif(model, person))
    bn = gum.loadBN(str(path))
    for evidence in ({widest: True}, {widest: False}, {widest: True, "back_pain": True}):
        conds, roots = _pyagrum_posteriors(bn, model, evidence)
        post = posterior(model, person, evidence)
        # pyAgrum sums in an order of its own: agreement to 1e-7, not to the last bit.
        np.testing.assert_allclose(post.conditions, conds, atol=1e-7, rtol=0)
        np.testing.assert_allclose(post.roots, roots, atol=1e-7, rtol=0)


def test_pyagrum_agrees_on_200_evidence_sets(tmp_path: Path) -> None:
    model = default_engine().model
    rng = np.random.default_rng(20261122)
    people = [Person(age=a, sex=s) for a, s in ((68, "female"), (24, "male"), (13, "male"))]
    checked = 0
    for person in people:
        path = tmp_path / f"p{person.age}.bif"
        path.write_text(to_bif(model, person))
        bn = gum.loadBN(str(path))  # once per person: parsing the CPTs is the slow part
        for _ in range(67 if person.age != 13 else 66):
            evidence = sample_evidence(model, person, rng, int(rng.integers(1, 13)))
            conds, roots = _pyagrum_posteriors(bn, model, evidence)
            post = posterior(model, person, evidence)
            np.testing.assert_allclose(post.conditions, conds, atol=1e-6, rtol=0)
            np.testing.assert_allclose(post.roots, roots, atol=1e-6, rtol=0)
            checked += 1
    assert checked == 200


def test_pgmpy_agrees_on_random_networks(tmp_path: Path) -> None:
    from pgmpy.inference import VariableElimination
    from pgmpy.readwrite import BIFReader

    for seed in range(5):
        model = random_model(seed, n=7, n_findings=12)
        person = Person(age=40)
        path = tmp_path / f"r{seed}.bif"
        path.write_text(to_bif(model, person))
        network = BIFReader(str(path)).get_model()
        infer = VariableElimination(network)
        rng = np.random.default_rng(seed)
        evidence = sample_evidence(model, person, rng, 6)
        states = bif_evidence(evidence)  # the findings and the complaint present
        post = posterior(model, person, evidence)
        for i, cid in enumerate(model.condition_ids):
            factor = infer.query([cid], evidence=states, show_progress=False)
            expected = factor.values[factor.state_names[cid].index("present")]
            assert post.conditions[i] == pytest.approx(expected, abs=1e-9)


def test_complaint_by_conditioning_matches_the_chain(tmp_path: Path) -> None:
    # Expected values: pyAgrum on the export with the complaint's chain. Under test: the export
    # without it, run twice by pyAgrum (the findings; the findings and every condition absent)
    # and put together by ``condition_on_complaint`` (``posteriors_by_conditioning``, the
    # function the batch bench gives pyAgrum's side with).
    model = default_engine().model
    person = Person(age=68, sex="female")
    bare = tmp_path / "bare.bif"
    bare.write_text(to_bif(model, person, complaint=False))
    chained = tmp_path / "chained.bif"
    chained.write_text(to_bif(model, person))
    bn, bn_chain = gum.loadBN(str(bare)), gum.loadBN(str(chained))
    wide = _wide_chains(model)
    assert set(bn.names()) == {*model.condition_ids, *model.root_ids, *model.finding_ids, *wide}
    leak = complaint_leak(model, person)
    assert 0.05 - 1e-12 <= leak < 1.0  # the floor of outside causes (meta.yaml complaint.other)
    rng = np.random.default_rng(20261206)
    for _ in range(12):
        evidence = sample_evidence(model, person, rng, int(rng.integers(1, 9)))
        expected = _pyagrum_posteriors(bn_chain, model, evidence)
        full, none = gum.LazyPropagation(bn), gum.LazyPropagation(bn)
        full.setTargets({*model.condition_ids, *model.root_ids})
        none.setTargets(set(model.root_ids))
        conditions, roots = posteriors_by_conditioning(model, leak, full, none, evidence)
        np.testing.assert_allclose(conditions, expected[0], atol=1e-9, rtol=0)
        np.testing.assert_allclose(roots, expected[1], atol=1e-9, rtol=0)
