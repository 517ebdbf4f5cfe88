"""Exact posterior marginals of every condition, nerve root and pain source.

``posterior`` and ``posterior_batch`` run the compiled kernel of :mod:`kneesource.inference.kernel`
(cases in parallel); evidence too wide for its full state goes to ``posterior_frontier``, the numpy
frontier algorithm of :mod:`kneesource.inference.subset_dp`. Both prune the network to what the
evidence touches and are checked against each other and against brute-force enumeration.

Definitions (also in ``docs/model.md``):

* condition probability: P(condition present | findings, person);
* root probability: P(nerve root involved | findings, person);
* pain source probability for group g: P(at least one condition of group g present | findings,
  person). Several causes can coexist, so the five sources need not sum to one.

Sources and roots outside the pruned network come from *variants* of the same computation: a row
in which every condition of a group may only be absent gives P(no cause in the group, evidence); a
row in which every link into root r counts as an absent finding gives P(root r off, evidence) up to
the root's leak.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kneesource.inference.kernel import batch_kernel
from kneesource.inference.subset_dp import FloatArray, Layout, Rows, run
from kneesource.kb.schema import SOURCE_GROUPS, SourceGroup
from kneesource.model.compiled import CompiledModel, Person, check_model

IntArray = np.ndarray


@dataclass(frozen=True)
class Posterior:
    """Posterior marginals for one case, in the model's id order."""

    conditions: FloatArray  # (n,)
    roots: FloatArray  # (R,)
    sources: dict[SourceGroup, float]
    log_evidence: float


@dataclass(frozen=True)
class _Case:
    priors: FloatArray
    present: IntArray
    log_w: FloatArray  # (n,) log absent-finding weight per condition
    log_u: FloatArray  # (R,) log absent-finding weight per root
    log_const: float
    relevant_roots: IntArray


def _variant_weights(model: CompiledModel) -> FloatArray:
    """Rows multiplying each condition's "present" weight: base, one per source group (its
    conditions cleared), one per root (its links counted as absent)."""
    cached: FloatArray | None = model.__dict__.get("_variants")
    if cached is None:
        groups = np.array(model.groups)
        rows = [np.ones(model.n_conditions)]
        rows += [(groups != g).astype(float) for g in SOURCE_GROUPS]
        rows += [1.0 - model.condition_root[:, r] for r in range(len(model.root_ids))]
        cached = np.array(rows)
        cached.setflags(write=False)
        object.__setattr__(model, "_variants", cached)
    return cached


N_GROUPS = len(SOURCE_GROUPS)


def _prepare(model: CompiledModel, person: Person, findings: Mapping[str, bool]) -> _Case:
    # A mapping holds each id once, so no finding can be both present and absent.
    index = [(model.finding_index(f), v) for f, v in findings.items()]
    present = np.array(sorted(i for i, v in index if v), dtype=np.intp)
    absent = np.array(sorted(i for i, v in index if not v), dtype=np.intp)
    log_w = np.log1p(-model.condition_finding[:, absent]).sum(axis=1)
    log_u = np.log1p(-model.root_finding[:, absent]).sum(axis=1)
    log_const = float(np.log1p(-model.finding_leak[absent]).sum())
    observed = np.concatenate([present, absent])
    relevant = np.flatnonzero(model.root_finding[:, observed].any(axis=1))
    return _Case(model.priors(person), present, log_w, log_u, log_const, relevant)


def _rows(
    model: CompiledModel, case: _Case, conds: IntArray, roots: IntArray, variants: FloatArray
) -> Rows:
    """One row per variant of the case; ``variants`` is (V, n) weight multipliers."""
    n_var = len(variants)
    pri = case.priors[conds]
    on = (pri * np.exp(case.log_w[conds]))[None, :] * variants[:, conds]
    act = np.concatenate(
        [
            model.condition_finding[np.ix_(conds, case.present)],
            model.condition_root[np.ix_(conds, roots)],
        ],
        axis=1,
    )
    leak = np.concatenate([model.finding_leak[case.present], model.root_leak[roots]])
    emit = model.root_finding[np.ix_(roots, case.present)]
    emit_w = np.exp(case.log_u[roots])

    def repeat(a: FloatArray) -> FloatArray:
        return np.repeat(a[None], n_var, axis=0)

    return Rows(
        off=repeat(1.0 - pri),
        on=on,
        act=repeat(act),
        leak=repeat(leak),
        emit=repeat(emit),
        emit_weight=repeat(emit_w),
    )


def posterior(model: CompiledModel, person: Person, findings: Mapping[str, bool]) -> Posterior:
    """Exact posterior marginals for one person and their findings (missing ids are unknown)."""
    return posterior_batch(model, [(person, findings)])[0]


def posterior_frontier(
    model: CompiledModel, person: Person, findings: Mapping[str, bool]
) -> Posterior:
    """The same posteriors by the frontier algorithm of ``subset_dp`` (numpy), whose cost follows
    the widest frontier: used for evidence too wide for the compiled kernel's full state."""
    check_model(model)
    case = _prepare(model, person, findings)
    variants = _variant_weights(model)
    roots = case.relevant_roots
    touches = model.condition_finding[:, case.present].any(axis=1) | model.condition_root[
        :, roots
    ].any(axis=1)
    conds, local = np.flatnonzero(touches), np.flatnonzero(~touches)

    dp = run(
        _rows(model, case, conds, roots, variants),
        Layout(n_findings=len(case.present), n_roots=len(roots)),
        posteriors=True,
    )
    # Conditions outside the DP are independent of it given the evidence: closed form.
    pri, weight = case.priors[local], np.exp(case.log_w[local])
    local_log = np.log1p(pri * (weight * variants[:, local] - 1.0)).sum(axis=1)
    log_total = dp.log_z + local_log  # (V,) log mass of each variant, up to the shared constant

    conditions = np.empty(model.n_conditions)
    conditions[local] = pri * weight / (1.0 - pri + pri * weight)
    assert dp.condition_on is not None
    conditions[conds] = dp.condition_on[0]
    sources: dict[SourceGroup, float] = {
        g: float(-np.expm1(log_total[1 + i] - log_total[0])) for i, g in enumerate(SOURCE_GROUPS)
    }
    root_off = np.log1p(-model.root_leak) + log_total[1 + N_GROUPS :] - log_total[0]
    root_p = -np.expm1(root_off)
    root_p[roots] = dp.root_on[0]
    return Posterior(
        conditions=np.clip(conditions, 0.0, 1.0),
        roots=np.clip(root_p, 0.0, 1.0),
        sources={g: min(1.0, max(0.0, p)) for g, p in sources.items()},
        log_evidence=float(log_total[0]) + case.log_const,
    )


def _group_index(model: CompiledModel) -> IntArray:
    cached: IntArray | None = model.__dict__.get("_group_index")
    if cached is None:
        cached = np.array([SOURCE_GROUPS.index(g) for g in model.groups], dtype=np.int64)
        object.__setattr__(model, "_group_index", cached)
    return cached


def encode_evidence(
    model: CompiledModel, cases: Sequence[tuple[Person, Mapping[str, bool]]]
) -> tuple[FloatArray, np.ndarray]:
    """Priors (B, n) and evidence (B, F) as int8: -1 unknown, 0 absent, 1 present."""
    priors = np.empty((len(cases), model.n_conditions))
    evidence = np.full((len(cases), len(model.finding_ids)), -1, dtype=np.int8)
    by_person: dict[Person, FloatArray] = {}
    positions = model.finding_positions
    for i, (person, findings) in enumerate(cases):
        pri = by_person.get(person)
        if pri is None:
            pri = by_person[person] = model.priors(person)
        priors[i] = pri
        row = evidence[i]
        for f, value in findings.items():
            j = positions.get(f)
            row[model.finding_index(f) if j is None else j] = 1 if value else 0
    return priors, evidence


def posterior_batch(
    model: CompiledModel, cases: Sequence[tuple[Person, Mapping[str, bool]]]
) -> list[Posterior]:
    """Exact posteriors for many cases: the compiled kernel, spread over the machine's cores,
    with the frontier algorithm for any case whose evidence is too wide for the kernel."""
    check_model(model)
    priors, evidence = encode_evidence(model, cases)
    b, n, r = len(cases), model.n_conditions, len(model.root_ids)
    conds, roots, srcs = np.zeros((b, n)), np.zeros((b, r)), np.zeros((b, N_GROUPS))
    log_z, ok = np.zeros(b), np.zeros(b, dtype=np.bool_)
    batch_kernel(
        priors,
        model.condition_finding,
        model.condition_root,
        model.root_finding,
        model.finding_leak,
        model.root_leak,
        _group_index(model),
        evidence,
        conds,
        roots,
        srcs,
        log_z,
        ok,
    )
    np.clip(conds, 0.0, 1.0, out=conds)
    np.clip(roots, 0.0, 1.0, out=roots)
    sources = np.clip(srcs, 0.0, 1.0).tolist()
    evidence_log = log_z.tolist()
    return [
        Posterior(
            conds[i], roots[i], dict(zip(SOURCE_GROUPS, sources[i], strict=True)), evidence_log[i]
        )
        if ok[i]
        else posterior_frontier(model, *cases[i])
        for i in range(b)
    ]
