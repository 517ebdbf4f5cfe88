"""Write the compiled network, with the priors of one person, in the BIF interchange format.

Every node is binary with states ``absent`` then ``present``; node names are the ids that
``assess`` uses (conditions, roots L2..S1, findings). Noisy-OR links are expanded into full
conditional probability tables, written one parent configuration per line, so pgmpy, pyAgrum,
GeNIe and SamIam read the same numbers kneesource uses.

The complaint is a node too (:mod:`kneesource.inference.complaint`): the conditions carry the
population priors of the person, and ``knee_region_pain`` is present when any condition is, or by
its leak. It is written as a chain of "any cause so far" nodes, one per condition, so that no
table holds more than three variables. kneesource's probabilities are those given the findings
and ``knee_region_pain`` present (``evidence`` below gives both).

A finding with more than ``MAX_TABLE_PARENTS`` causes is written the same way, as a chain
(``<finding>_leak``, then ``<finding>_upto_<cause>`` for every cause but the last, each present
when the one before is or when its cause activates the finding): the same noisy-OR, exactly, in
tables of three variables, where one full table would have 2^k lines (16 million for 24 causes).

The complaint's chain ties every condition to every other, which a junction tree pays for on wide
evidence.
``complaint=False`` leaves it out (the conditions keep their population priors): the complaint can
then be applied by conditioning, from two runs of the smaller network, as ``condition_on_complaint``
shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from kneesource.inference.complaint import population_priors
from kneesource.model.compiled import CompiledModel, Person

STATES = ("absent", "present")
COMPLAINT = "knee_region_pain"
# Causes of a finding up to which its noisy-OR is one full table (65,536 lines); past it, a chain.
MAX_TABLE_PARENTS = 16


def evidence(findings: Mapping[str, bool]) -> dict[str, str]:
    """The evidence to set on the exported network for these findings: their states, and the
    complaint present."""
    return {COMPLAINT: STATES[1], **_states(findings)}


def impossible(model: CompiledModel, person: Person) -> dict[str, str]:
    """The conditions this person cannot have (a context they lack, ``prior.requires``, or an
    age outside ``prior.ages``), set absent. Their prior in the export is zero, so this evidence
    changes no probability, but a junction tree given it leaves them out of its cliques (pyAgrum's
    LazyPropagation drops hard evidence from its graph), as kneesource's tables do."""
    return {model.condition_ids[i]: STATES[0] for i in sorted(model.impossible(person))}


def _states(findings: Mapping[str, bool]) -> dict[str, str]:
    return {f: STATES[1] if v else STATES[0] for f, v in findings.items()}


def _chain_nodes(name: str, causes: Sequence[str]) -> list[str]:
    """A noisy-OR written as a chain: its leak, one "any cause so far" node per cause but the
    last, and ``name`` itself."""
    return [f"{name}_leak", *(f"{name}_upto_{c}" for c in causes[:-1]), name]


def _chain_tables(
    nodes: Sequence[str], causes: Sequence[str], weights: Sequence[float], leak: float
) -> Iterator[str]:
    """The tables of a chain (``_chain_nodes``): the leak, then each node present when the one
    before is or when its cause activates it; no table holds more than three variables."""
    yield _noisy_or_table(nodes[0], [], [], leak)
    for k, (cause, w) in enumerate(zip(causes, weights, strict=True)):
        yield _noisy_or_table(nodes[k + 1], [nodes[k], cause], [1.0, w], 0.0)


def complaint_nodes(model: CompiledModel) -> list[str]:
    """The complaint's nodes: its leak, one "any cause so far" node per condition but the last,
    and ``COMPLAINT`` itself."""
    return _chain_nodes(COMPLAINT, model.condition_ids)


def _causes(model: CompiledModel, j: int) -> tuple[list[str], list[float]]:
    """The causes of finding ``j`` (conditions, then roots) and the weight of each."""
    ci = np.flatnonzero(model.condition_finding[:, j])
    ri = np.flatnonzero(model.root_finding[:, j])
    names = [model.condition_ids[i] for i in ci] + [model.root_ids[r] for r in ri]
    weights = [float(model.condition_finding[i, j]) for i in ci]
    return names, weights + [float(model.root_finding[r, j]) for r in ri]


def _finding_chain(fid: str, causes: Sequence[str]) -> list[str]:
    """The nodes of a finding written as a chain: its leak, one "any cause so far" node per
    cause but the last, and the finding itself; just the finding when it fits one table."""
    return [fid] if len(causes) <= MAX_TABLE_PARENTS else _chain_nodes(fid, causes)


def _num(x: float) -> str:
    return repr(float(x))


def _variable(name: str) -> str:
    return f"variable {name} {{\n  type discrete [ 2 ] {{ {STATES[0]}, {STATES[1]} }};\n}}\n"


def _noisy_or_table(
    name: str, parents: Sequence[str], weights: Sequence[float], leak: float
) -> str:
    if not parents:
        return f"probability ( {name} ) {{\n  table {_num(1 - leak)}, {_num(leak)};\n}}\n"
    lines = [f"probability ( {name} | {', '.join(parents)} ) {{"]
    for states in itertools.product((0, 1), repeat=len(parents)):
        off = (1.0 - leak) * float(
            np.prod([1.0 - w for w, s in zip(weights, states, strict=True) if s])
        )
        label = ", ".join(STATES[s] for s in states)
        lines.append(f"  ({label}) {_num(off)}, {_num(1.0 - off)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def iter_bif(model: CompiledModel, person: Person, complaint: bool = True) -> Iterator[str]:
    """The BIF text in pieces (the largest tables have 2^k lines); ``complaint=False`` leaves
    out the complaint's nodes."""
    yield (
        "network kneesource {\n"
        f'  property knowledge_base_version = "{model.knowledge_base_version}";\n'
        f'  property person = "age {person.age}, sex {person.sex or "unspecified"}, '
        f'activities {",".join(sorted(person.activities)) or "none"}";\n'
        "}\n"
    )
    chain = complaint_nodes(model) if complaint else []
    causes = [_causes(model, j) for j in range(len(model.finding_ids))]
    nodes = [
        _finding_chain(fid, parents)
        for fid, (parents, _) in zip(model.finding_ids, causes, strict=True)
    ]
    links = [n for chained in nodes for n in chained[:-1]]
    names = [*model.condition_ids, *model.root_ids, *model.finding_ids, *chain, *links]
    if len(set(names)) != len(names):
        raise ValueError("an id of the model clashes with the nodes of a chain")
    for name in names:
        yield _variable(name)
    priors, _, leak = population_priors(model, model.priors(person))
    for i, cid in enumerate(model.condition_ids):
        yield _noisy_or_table(cid, [], [], float(priors[0, i]))
    if complaint:
        every = [1.0] * len(model.condition_ids)
        yield from _chain_tables(chain, model.condition_ids, every, float(leak[0]))
    for r, rid in enumerate(model.root_ids):
        idx = np.flatnonzero(model.condition_root[:, r])
        yield _noisy_or_table(
            rid,
            [model.condition_ids[i] for i in idx],
            [float(model.condition_root[i, r]) for i in idx],
            float(model.root_leak[r]),
        )
    for j, fid in enumerate(model.finding_ids):
        (parents, weights), leak_j = causes[j], float(model.finding_leak[j])
        if len(nodes[j]) == 1:
            yield _noisy_or_table(fid, parents, weights, leak_j)
        else:
            yield from _chain_tables(nodes[j], parents, weights, leak_j)


def to_bif(model: CompiledModel, person: Person, complaint: bool = True) -> str:
    return "".join(iter_bif(model, person, complaint))


def complaint_leak(model: CompiledModel, person: Person) -> float:
    """The probability that causes outside the model give this person knee pain."""
    return float(population_priors(model, model.priors(person))[2][0])


def condition_on_complaint(
    leak: float,
    conditions: np.ndarray,
    roots: np.ndarray,
    none_present: float,
    roots_if_none: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Posteriors given the findings and the complaint, from those of the network without the
    complaint (``complaint=False``) given the findings alone.

    The complaint is absent only when no condition is present and the leak stays off, so with
    N = P(no condition | findings): P(complaint absent | findings) = (1 - leak) N. A condition
    present implies the complaint, hence P(c | findings, complaint) = P(c | findings) / (1 - (1 -
    leak) N); a root may be present with no condition, so its share of the complaint's absence,
    (1 - leak) N P(root | findings, no condition), is taken off first. ``roots_if_none`` is
    P(root | findings, every condition absent)."""
    absent = (1.0 - leak) * none_present
    return conditions / (1.0 - absent), (roots - absent * roots_if_none) / (1.0 - absent)


def posteriors_by_conditioning(
    model: CompiledModel, leak: float, full: Any, none: Any, findings: Mapping[str, bool]
) -> tuple[np.ndarray, np.ndarray]:
    """kneesource's conditions and roots given ``findings`` (id to present) and the complaint,
    from two junction-tree engines on the export without the complaint (``complaint=False``):
    pyAgrum's ``LazyPropagation``, or anything with its methods, ``full`` targeting the
    conditions and roots and ``none`` the roots. Each is given the findings (``none`` with every
    condition absent too), and ``condition_on_complaint`` puts the two runs together; ``leak``
    is ``complaint_leak`` of the person the export is for."""
    states = _states(findings)
    full.eraseAllEvidence()
    full.setEvidence(states)
    full.makeInference()
    conditions = np.array([full.posterior(c)[:][1] for c in model.condition_ids])
    roots = np.array([full.posterior(r)[:][1] for r in model.root_ids])
    none.eraseAllEvidence()
    none.setEvidence({**states, **dict.fromkeys(model.condition_ids, STATES[0])})
    none.makeInference()
    share = none.evidenceProbability() / full.evidenceProbability()
    roots_if_none = np.array([none.posterior(r)[:][1] for r in model.root_ids])
    return condition_on_complaint(leak, conditions, roots, share, roots_if_none)
