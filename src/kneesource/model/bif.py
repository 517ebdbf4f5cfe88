"""Write the compiled network, with the priors of one person, in the BIF interchange format.

Every node is binary with states ``absent`` then ``present``; node names are the ids that
``assess`` uses (conditions, roots L2..S1, findings). Noisy-OR links are expanded into full
conditional probability tables, written one parent configuration per line, so pgmpy, pyAgrum,
GeNIe and SamIam read the same numbers kneesource uses.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np

from kneesource.model.compiled import CompiledModel, Person

STATES = ("absent", "present")


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


def iter_bif(model: CompiledModel, person: Person) -> Iterator[str]:
    """The BIF text in pieces (the largest tables have 2^k lines)."""
    yield (
        "network kneesource {\n"
        f'  property knowledge_base_version = "{model.knowledge_base_version}";\n'
        f'  property person = "age {person.age}, sex {person.sex or "unspecified"}, '
        f'activities {",".join(sorted(person.activities)) or "none"}";\n'
        "}\n"
    )
    names = [*model.condition_ids, *model.root_ids, *model.finding_ids]
    for name in names:
        yield _variable(name)
    priors = model.priors(person)
    for i, cid in enumerate(model.condition_ids):
        yield f"probability ( {cid} ) {{\n  table {_num(1 - priors[i])}, {_num(priors[i])};\n}}\n"
    for r, rid in enumerate(model.root_ids):
        idx = np.flatnonzero(model.condition_root[:, r])
        yield _noisy_or_table(
            rid,
            [model.condition_ids[i] for i in idx],
            [float(model.condition_root[i, r]) for i in idx],
            float(model.root_leak[r]),
        )
    for j, fid in enumerate(model.finding_ids):
        ci = np.flatnonzero(model.condition_finding[:, j])
        ri = np.flatnonzero(model.root_finding[:, j])
        yield _noisy_or_table(
            fid,
            [model.condition_ids[i] for i in ci] + [model.root_ids[r] for r in ri],
            [float(model.condition_finding[i, j]) for i in ci]
            + [float(model.root_finding[r, j]) for r in ri],
            float(model.finding_leak[j]),
        )


def to_bif(model: CompiledModel, person: Person) -> str:
    return "".join(iter_bif(model, person))
