"""Wide evidence (6 to 25 present findings) agrees with pyAgrum: conditions, roots and sources.

Expected values come from pyAgrum's LazyPropagation (junction tree) on the exported network. The
pain source of a group is P(at least one of its conditions present | evidence), which pyAgrum gives
as 1 - P(evidence, every condition of the group absent) / P(evidence). The evidence sets include
the adversarial ones: present findings that all share one parent, and the findings with the most
causes. Each is checked through ``posterior`` (which picks the compiled kernel or bucket
elimination) and through bucket elimination directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kneesource.engine import default_engine
from kneesource.inference.exact import fits_kernel, posterior, posterior_wide
from kneesource.inference.kernel_np import MAX_BITS
from kneesource.kb.schema import SOURCE_GROUPS
from kneesource.model.bif import evidence as bif_evidence
from kneesource.model.bif import impossible as bif_impossible
from kneesource.model.bif import to_bif
from kneesource.model.compiled import CompiledModel, Person

gum = pytest.importorskip("pyagrum")

MODEL = default_engine().model
PERSON = Person(age=58, sex="female")


def _evidence_sets(model: CompiledModel) -> list[tuple[str, dict[str, bool]]]:
    linked = (model.condition_finding > 0).sum(axis=0) + (model.root_finding > 0).sum(axis=0)
    ids = [model.finding_ids[i] for i in np.flatnonzero(linked)]
    oa = model.condition_ids.index("knee_osteoarthritis")
    shared = [model.finding_ids[i] for i in np.flatnonzero(model.condition_finding[oa])]
    most = [model.finding_ids[i] for i in np.argsort(-linked, kind="stable")[:12]]
    sets = [
        ("20 sharing knee osteoarthritis", dict.fromkeys(shared[:20], True)),
        ("25 sharing knee osteoarthritis", dict.fromkeys(shared[:25], True)),
        ("the 12 findings with most causes", dict.fromkeys(most, True)),
    ]
    rng = np.random.default_rng(20261205)
    for k in (6, 9, 12, 15, 18, 21, 25):
        chosen = rng.choice(len(ids), size=k + 10, replace=False)
        evidence = {ids[i]: True for i in chosen[:k]}
        evidence.update({ids[i]: False for i in chosen[k:]})  # and ten absent ones
        sets.append((f"{k} random present, 10 absent", evidence))
    return sets


SETS = _evidence_sets(MODEL)


@pytest.fixture(scope="module")
def bn(tmp_path_factory: pytest.TempPathFactory) -> object:
    path = Path(tmp_path_factory.mktemp("bif")) / "model.bif"
    path.write_text(to_bif(MODEL, PERSON))
    return gum.loadBN(str(path))


def _pyagrum(bn: object, evidence: dict[str, bool]) -> tuple[np.ndarray, np.ndarray, dict]:
    # The findings and the complaint present, and the conditions the person cannot have absent:
    # their prior is zero in the export, so the evidence is certain and changes no probability
    # (pyAgrum's evidence probability is the same), but pyAgrum then leaves them out of its
    # cliques (the 12 findings with most causes: 77 s without it, 2 s with it).
    states = {**bif_evidence(evidence), **bif_impossible(MODEL, PERSON)}
    engine = gum.LazyPropagation(bn)
    engine.setTargets({*MODEL.condition_ids, *MODEL.root_ids})
    engine.setEvidence(states)
    engine.makeInference()
    conds = np.array([engine.posterior(c)[:][1] for c in MODEL.condition_ids])
    roots = np.array([engine.posterior(r)[:][1] for r in MODEL.root_ids])
    p_e = engine.evidenceProbability()
    sources = {}
    for g in SOURCE_GROUPS:
        members = [c for c, cg in zip(MODEL.condition_ids, MODEL.groups, strict=True) if cg == g]
        held = gum.LazyPropagation(bn)
        held.setTargets(set(MODEL.root_ids))  # lets pyAgrum prune the findings nobody asked
        held.setEvidence({**states, **dict.fromkeys(members, "absent")})
        held.makeInference()
        sources[g] = 1.0 - held.evidenceProbability() / p_e
    return conds, roots, sources


@pytest.mark.parametrize(("name", "evidence"), SETS, ids=[name for name, _ in SETS])
def test_wide_evidence_matches_pyagrum(bn: object, name: str, evidence: dict[str, bool]) -> None:
    conds, roots, sources = _pyagrum(bn, evidence)
    for post in (posterior(MODEL, PERSON, evidence), posterior_wide(MODEL, PERSON, evidence)[0]):
        np.testing.assert_allclose(post.conditions, conds, atol=1e-6, rtol=0)
        np.testing.assert_allclose(post.roots, roots, atol=1e-6, rtol=0)
        for g in SOURCE_GROUPS:
            assert post.sources[g] == pytest.approx(sources[g], abs=1e-6)


def test_setting_the_impossible_conditions_absent_changes_no_probability(bn: object) -> None:
    # Five conditions a woman of 58 cannot have (an implant's problems without an implant, the
    # four conditions of childhood): absent with certainty, so pyAgrum's probability of the
    # evidence and its posteriors are the same with and without saying so.
    assert len(bif_impossible(MODEL, PERSON)) == 5
    evidence = bif_evidence(SETS[0][1])
    out = []
    for states in (evidence, {**evidence, **bif_impossible(MODEL, PERSON)}):
        engine = gum.LazyPropagation(bn)
        engine.setTargets(set(MODEL.condition_ids))
        engine.setEvidence(states)
        engine.makeInference()
        conds = [engine.posterior(c)[:][1] for c in MODEL.condition_ids]
        out.append((engine.evidenceProbability(), np.array(conds)))
    assert out[0][0] == pytest.approx(out[1][0], rel=1e-9)
    np.testing.assert_allclose(out[0][1], out[1][1], atol=1e-9)


def test_the_sets_reach_beyond_the_kernel_and_the_kernel_beyond_sixteen_findings() -> None:
    # Without this the comparison above would never exercise bucket elimination through
    # ``posterior``, nor the kernel on more present findings than its 16 bits (it holds them
    # when few are in play at any one step).
    wide = [name for name, evidence in SETS if not fits_kernel(MODEL, evidence)]
    assert len(wide) >= 2, wide
    many = [
        name
        for name, evidence in SETS
        if fits_kernel(MODEL, evidence) and sum(evidence.values()) > MAX_BITS
    ]
    assert len(many) >= 3, many
