"""Exact posterior marginals of every condition, nerve root and pain source.

``posterior`` answers one case, pruning the network to what the evidence touches;
``posterior_batch`` scores many cases in shared numpy operations. Both use
:mod:`kneesource.inference.subset_dp`.

Definitions (also in ``docs/model.md``):

* condition probability: P(condition present | findings, person);
* root probability: P(nerve root involved | findings, person);
* pain source probability for group g: P(at least one condition of group g present | findings,
  person). Several causes can coexist, so the five sources need not sum to one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kneesource.inference.subset_dp import DPResult, FloatArray, Layout, Rows, run
from kneesource.kb.schema import SOURCE_GROUPS, SourceGroup
from kneesource.model.compiled import CompiledModel, Person, check_model


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
    present: np.ndarray
    absent: np.ndarray
    log_w: FloatArray  # (n,) log absent-finding weight per condition
    log_u: FloatArray  # (R,) log absent-finding weight per root
    log_const: float


def _prepare(model: CompiledModel, person: Person, findings: Mapping[str, bool]) -> _Case:
    present = np.array(
        sorted({model.finding_index(f) for f, v in findings.items() if v}), dtype=np.intp
    )
    absent = np.array(
        sorted({model.finding_index(f) for f, v in findings.items() if not v}), dtype=np.intp
    )
    if np.intersect1d(present, absent).size:
        raise AssertionError("a finding cannot be both present and absent")
    log_w = np.log1p(-model.condition_finding[:, absent]).sum(axis=1)
    log_u = np.log1p(-model.root_finding[:, absent]).sum(axis=1)
    log_const = float(np.log1p(-model.finding_leak[absent]).sum())
    return _Case(model.priors(person), present, absent, log_w, log_u, log_const)


def _rows(
    model: CompiledModel,
    cases: Sequence[_Case],
    conds: np.ndarray,
    roots: np.ndarray,
    variants: Sequence[tuple[np.ndarray | None, int | None]],
) -> Rows:
    """One row per (case, variant). A variant (group mask, root) keeps only the "absent" state of a
    group's conditions, or makes every condition's link to a root count as an absent finding."""
    m = len(cases[0].present)
    k_bits = m + len(roots)
    off, on, act, leak, emit, emit_w = [], [], [], [], [], []
    for case in cases:
        a = np.zeros((len(conds), k_bits))
        a[:, :m] = model.condition_finding[np.ix_(conds, case.present)]
        a[:, m:] = model.condition_root[np.ix_(conds, roots)]
        lk = np.concatenate([model.finding_leak[case.present], model.root_leak[roots]])
        em = model.root_finding[np.ix_(roots, case.present)]
        ew = np.exp(case.log_u[roots])
        for clear, root in variants:
            pri = case.priors[conds]
            weight = np.exp(case.log_w[conds])
            if clear is not None:
                weight = np.where(clear[conds], 0.0, weight)
            if root is not None:
                weight = weight * (1.0 - model.condition_root[conds, root])
            off.append(1.0 - pri)
            on.append(pri * weight)
            act.append(a)
            leak.append(lk)
            emit.append(em)
            emit_w.append(ew)
    return Rows(
        off=np.array(off),
        on=np.array(on),
        act=np.array(act),
        leak=np.array(leak),
        emit=np.array(emit).reshape(len(off), len(roots), m),
        emit_weight=np.array(emit_w).reshape(len(off), len(roots)),
    )


def _local_log_factor(
    case: _Case, local: np.ndarray, clear: np.ndarray | None, root_w: FloatArray | None
) -> float:
    """log of prod over conditions outside the DP of (1 - prior + prior * weight); a cleared
    condition keeps only its "absent" term (1 - prior)."""
    pri = case.priors[local]
    weight = np.exp(case.log_w[local])
    if clear is not None:
        weight = np.where(clear[local], 0.0, weight)
    if root_w is not None:
        weight = weight * (1.0 - root_w[local])
    return float(np.log1p(pri * (weight - 1.0)).sum())


def posterior(model: CompiledModel, person: Person, findings: Mapping[str, bool]) -> Posterior:
    """Exact posterior marginals for one person and their findings (missing ids are unknown)."""
    check_model(model)
    case = _prepare(model, person, findings)
    observed = np.concatenate([case.present, case.absent])
    relevant_roots = np.flatnonzero(model.root_finding[:, observed].any(axis=1))
    touches = model.condition_finding[:, case.present].any(axis=1) | model.condition_root[
        :, relevant_roots
    ].any(axis=1)
    conds = np.flatnonzero(touches)
    local = np.flatnonzero(~touches)
    layout = Layout(n_findings=len(case.present), n_roots=len(relevant_roots))

    masks = {g: np.array([x == g for x in model.groups]) for g in SOURCE_GROUPS}
    other_roots = [r for r in range(len(model.root_ids)) if r not in set(relevant_roots)]
    variants: list[tuple[np.ndarray | None, int | None]] = [(masks[g], None) for g in SOURCE_GROUPS]
    variants += [(None, r) for r in other_roots]

    conditions = np.empty(model.n_conditions)
    pri_local = case.priors[local]
    w_local = np.exp(case.log_w[local])
    conditions[local] = pri_local * w_local / (1.0 - pri_local + pri_local * w_local)
    base_local = _local_log_factor(case, local, None, None)
    if len(conds):
        base = run(_rows(model, [case], conds, relevant_roots, [(None, None)]), layout, True)
        assert base.condition_on is not None
        conditions[conds] = base.condition_on[0]
        var: DPResult | None = run(
            _rows(model, [case], conds, relevant_roots, variants), layout, False
        )
    else:
        base = run(_rows(model, [case], conds, relevant_roots, [(None, None)]), layout, False)
        var = run(_rows(model, [case], conds, relevant_roots, variants), layout, False)
    base_log = float(base.log_z[0]) + base_local
    assert var is not None

    roots = np.empty(len(model.root_ids))
    roots[relevant_roots] = base.root_on[0]
    sources: dict[SourceGroup, float] = {}
    for i, g in enumerate(SOURCE_GROUPS):
        log_none = float(var.log_z[i]) + _local_log_factor(case, local, masks[g], None)
        sources[g] = float(-np.expm1(log_none - base_log))
    for j, r in enumerate(other_roots):
        log_off = float(var.log_z[len(SOURCE_GROUPS) + j]) + _local_log_factor(
            case, local, None, model.condition_root[:, r]
        )
        roots[r] = float(-np.expm1(np.log1p(-model.root_leak[r]) + log_off - base_log))
    np.clip(conditions, 0.0, 1.0, out=conditions)
    np.clip(roots, 0.0, 1.0, out=roots)
    return Posterior(
        conditions=conditions,
        roots=roots,
        sources={g: min(1.0, max(0.0, p)) for g, p in sources.items()},
        log_evidence=base_log + case.log_const,
    )


def posterior_batch(
    model: CompiledModel, cases: Sequence[tuple[Person, Mapping[str, bool]]]
) -> list[Posterior]:
    """Exact posteriors for many cases; cases with the same number of present findings share
    every numpy operation (all conditions and all five roots kept in the state)."""
    check_model(model)
    prepared = [_prepare(model, person, findings) for person, findings in cases]
    out: list[Posterior | None] = [None] * len(prepared)
    all_conds = np.arange(model.n_conditions)
    all_roots = np.arange(len(model.root_ids))
    masks = [np.array([x == g for x in model.groups]) for g in SOURCE_GROUPS]
    variants: list[tuple[np.ndarray | None, int | None]] = [(m, None) for m in masks]
    by_size: dict[int, list[int]] = {}
    for i, case in enumerate(prepared):
        by_size.setdefault(len(case.present), []).append(i)
    for m, members in sorted(by_size.items()):
        layout = Layout(n_findings=m, n_roots=len(all_roots))
        group = [prepared[i] for i in members]
        base = run(_rows(model, group, all_conds, all_roots, [(None, None)]), layout, True)
        var = run(_rows(model, group, all_conds, all_roots, variants), layout, False)
        assert base.condition_on is not None
        nv = len(variants)
        for row, i in enumerate(members):
            sources = {
                g: float(min(1.0, max(0.0, -np.expm1(var.log_z[row * nv + v] - base.log_z[row]))))
                for v, g in enumerate(SOURCE_GROUPS)
            }
            out[i] = Posterior(
                conditions=np.clip(base.condition_on[row], 0.0, 1.0),
                roots=np.clip(base.root_on[row], 0.0, 1.0),
                sources=sources,
                log_evidence=float(base.log_z[row]) + group[row].log_const,
            )
    return [p for p in out if p is not None]
