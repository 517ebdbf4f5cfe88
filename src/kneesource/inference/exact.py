"""Exact posterior marginals of every condition, nerve root and pain source.

``posterior`` and ``posterior_batch`` run the compiled kernel of :mod:`kneesource.inference.kernel`
(cases in parallel), or its numpy version (:mod:`kneesource.inference.kernel_np`) until a process
has enough work to repay loading the compiler (``_kernel``); evidence too wide for their states
(more than ``MAX_BITS`` present findings and involved roots in play at one step, ``kernel_bits``)
goes to ``posterior_wide``, bucket elimination in :mod:`kneesource.inference.junction`, whose cost
follows the treewidth of the evidence, and so do heavy rows the kernel could hold when bucket
elimination's estimated time for them is lower (``_cheaper_wide``). All are checked against
each other, against brute-force enumeration and against pyAgrum.

Definitions (also in ``docs/model.md``), all given the complaint (knee-region pain) too:

* condition probability: P(condition present | findings, person, complaint);
* root probability: P(nerve root involved | findings, person, complaint);
* pain source probability for group g: P(at least one condition of group g present | findings,
  person, complaint). Several causes can coexist, so the five sources need not sum to one.

Every method runs on the population priors of the person's consulting priors, and the rows are
then conditioned on the complaint in closed form (:mod:`kneesource.inference.complaint`,
``_posteriors``).

In the kernel, sources and roots outside the pruned network come from *variants* of the same
computation: a row in which every condition of a group may only be absent gives P(no cause in the
group, evidence); a row in which every link into root r counts as an absent finding gives P(root r
off, evidence) up to the root's leak. Bucket elimination holds the roots as variables and each
source group as a deterministic OR of its conditions, so their marginals come out directly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from kneesource.errors import TooComplexError
from kneesource.inference import complaint, junction, kernel_np
from kneesource.inference.junction import FloatArray
from kneesource.inference.kernel_np import MAX_BITS
from kneesource.kb.schema import SOURCE_GROUPS, SourceGroup
from kneesource.model.compiled import CompiledModel, Person, check_model
from kneesource.owned import lru_per

IntArray = np.ndarray


@dataclass(frozen=True)
class Posterior:
    """Posterior marginals for one case, in the model's id order."""

    conditions: FloatArray  # (n,)
    roots: FloatArray  # (R,)
    sources: dict[SourceGroup, float]
    log_evidence: float


N_GROUPS = len(SOURCE_GROUPS)


def posterior(model: CompiledModel, person: Person, findings: Mapping[str, bool]) -> Posterior:
    """Exact posterior marginals for one person and their findings (missing ids are unknown)."""
    return posterior_batch(model, [(person, findings)])[0]


def case_network(
    model: CompiledModel,
    person: Person | FloatArray,
    findings: Mapping[str, bool],
    leave_out: Sequence[str] = (),
) -> junction.Network:
    """The case as a network for :mod:`kneesource.inference.junction`, one row per query: the
    case itself, then one per finding of ``leave_out`` with that finding left unobserved.

    For planning and for tests of its structure: it carries the person's consulting priors and
    not the complaint, so the posteriors it would give are not kneesource's (``posterior_wide``
    runs the population priors and conditions them on the complaint)."""
    priors = model.priors(person) if isinstance(person, Person) else np.asarray(person)
    rows = _case_rows(model, findings, leave_out)
    return rows_network(model, np.repeat(priors[None], len(rows), axis=0), rows)


def _case_rows(
    model: CompiledModel, findings: Mapping[str, bool], leave_out: Sequence[str]
) -> np.ndarray:
    """The case's evidence (-1 unknown, 0 absent, 1 present), then one row per finding of
    ``leave_out`` with that finding unknown."""
    evidence = np.full(len(model.finding_ids), -1, dtype=np.int8)
    for f, v in findings.items():
        evidence[model.finding_index(f)] = 1 if v else 0
    rows = np.repeat(evidence[None], 1 + len(leave_out), axis=0)
    for i, f in enumerate(leave_out):
        rows[1 + i, model.finding_index(f)] = -1
    return rows


def rows_network(
    model: CompiledModel, priors: FloatArray, evidence: np.ndarray
) -> junction.Network:
    """Rows of evidence (B, F: -1 unknown, 0 absent, 1 present) and priors (B, n) as one network
    for :mod:`kneesource.inference.junction`. A finding present in any row is a factor of the
    network, left out (a factor of 1) in the rows where it is unknown; no row may hold absent a
    finding that another row holds present. Absent findings fold into each row's weights.

    Variables: the conditions, the nerve roots, then one per source group that is present when
    any of the group's conditions is (a deterministic OR, whose marginal is the pain source)."""
    n, n_roots = model.n_conditions, len(model.root_ids)
    rows = len(evidence)
    present = np.flatnonzero((evidence == 1).any(axis=0))
    if ((evidence == 0)[:, present]).any():
        raise ValueError("a finding is present in one row and absent in another")
    absent = (evidence == 0).astype(np.float64)  # (B, F)
    log_w = absent @ np.log1p(-model.condition_finding).T  # (B, n)
    log_u = absent @ np.log1p(-model.root_finding).T  # (B, R)
    log_const = absent @ np.log1p(-model.finding_leak)
    named = n + n_roots + N_GROUPS
    net = junction.Network(n_vars=named, n_named=named, rows=rows, log_const=log_const)
    # A condition with a prior of zero in every row (one that needs a context the person does
    # not have, ``prior.requires``) is never present: leaving it out of its children's tables
    # changes no probability and keeps it out of every cluster.
    live = (priors > 0.0).any(axis=0)
    for c in range(n):
        on = priors[:, c] * np.exp(log_w[:, c])
        net.add((c,), np.stack([1.0 - priors[:, c], on]))
    for r in range(n_roots):
        net.add((n + r,), np.stack([np.ones(rows), np.exp(log_u[:, r])]))
        causes = np.flatnonzero(model.condition_root[:, r] * live)
        net.add_noisy_or(
            junction.NoisyOr(
                parents=tuple(int(c) for c in causes),
                weights=tuple(float(w) for w in model.condition_root[causes, r]),
                leak=float(model.root_leak[r]),
                child=n + r,
            )
        )
    for g in range(N_GROUPS):
        members = tuple(int(c) for c in np.flatnonzero((_group_index(model) == g) & live))
        net.add_noisy_or(junction.NoisyOr(members, (1.0,) * len(members), 0.0, n + n_roots + g))
    for f in present.tolist():
        conds = np.flatnonzero(model.condition_finding[:, f] * live)
        roots = np.flatnonzero(model.root_finding[:, f])
        net.add_noisy_or(
            junction.NoisyOr(
                parents=tuple(int(c) for c in conds) + tuple(n + int(r) for r in roots),
                weights=tuple(float(w) for w in model.condition_finding[conds, f])
                + tuple(float(w) for w in model.root_finding[roots, f]),
                leak=float(model.finding_leak[f]),
                child=None,
            ),
            removed=evidence[:, f] != 1,
        )
    return net


# Explanations re-run the case once per answer that could move a probability far enough to be
# listed; beyond this many table entries in all (about a second on this machine's two cores) a
# wide case is given its posteriors without them.
EXPLAIN_BUDGET = 1 << 29


def kernel_bits(model: CompiledModel, findings: Mapping[str, bool]) -> int:
    """The bits of the compiled kernel's widest state for this evidence (``_kernel_shape``):
    the present findings and involved roots in play at one step."""
    joint = _joint_bits(model, findings)
    if joint < ROUTE_FROM_BITS:  # the bound ``_kernel_shape`` takes for these
        return joint
    return int(_kernel_shape(model, _case_rows(model, findings, ()))[0][0])


def _joint_bits(model: CompiledModel, findings: Mapping[str, bool]) -> int:
    """The present findings and the roots any observed finding involves, together: the bits of
    a single state holding them all, which bounds the kernel's widest state."""
    present = sum(1 for v in findings.values() if v)
    observed = [model.finding_index(f) for f in findings]
    roots = int(model.root_finding[:, observed].any(axis=1).sum()) if observed else 0
    return present + roots


def fits_kernel(model: CompiledModel, findings: Mapping[str, bool]) -> bool:
    """Whether the compiled kernel's states stay within its ``MAX_BITS``; otherwise
    ``posterior_wide`` is used."""
    return kernel_bits(model, findings) <= MAX_BITS


def row_cost(
    model: CompiledModel, findings: Mapping[str, bool], person: Person | None = None
) -> int:
    """Table entries one posterior row of this evidence touches at most, worked out before any
    inference: when its present findings and involved roots together fit ``MAX_BITS``, a state
    of 2^(both) entries for every condition (the kernel's work when a single state held them
    all, and an upper bound of it since; the budgets measured against it were set on those
    times), else the entries of a bucket-elimination pass
    (``junction.plan``; the structure, and so the cost, depends on the present findings and
    on the conditions the person's context leaves possible: without ``person``, all of them).
    For budgets: a row's time on a machine is roughly proportional to it."""
    joint = _joint_bits(model, findings)
    if joint <= MAX_BITS:
        return model.n_conditions << joint
    impossible = model.impossible(person) if person is not None else frozenset()
    return _wide_row_cost(model, (frozenset(f for f, v in findings.items() if v), impossible))


@lru_per(1024)
def _wide_row_cost(model: CompiledModel, key: tuple[frozenset[str], frozenset[int]]) -> int:
    """The entries of a bucket-elimination row for these present findings, with the conditions
    of ``impossible`` (their prior zero) left out."""
    present, impossible = key
    priors = np.full(model.n_conditions, 0.5)
    priors[list(impossible)] = 0.0
    net = case_network(model, priors, dict.fromkeys(sorted(present), True))
    return junction.plan(net, _plans(model)).entries_per_row


def explanation_cost(
    model: CompiledModel, person: Person, findings: Mapping[str, bool], leave_out: Sequence[str]
) -> int:
    """Table entries that ``posterior_wide`` with each finding of ``leave_out`` left out would
    touch."""
    net = case_network(model, person, findings)
    return junction.plan(net, _plans(model)).entries_per_row * (1 + len(leave_out))


def posterior_wide(
    model: CompiledModel,
    person: Person | FloatArray,
    findings: Mapping[str, bool],
    leave_out: Sequence[str] = (),
) -> tuple[Posterior, FloatArray]:
    """Exact posteriors by bucket elimination (:mod:`kneesource.inference.junction`), whose cost
    follows the treewidth of the evidence rather than the number of present findings: the case
    first, then the case without each finding of ``leave_out``. Raises ``TooComplexError`` for
    evidence whose largest cluster would exceed the stated bound (checked before any work)."""
    check_model(model)
    consulting = model.priors(person) if isinstance(person, Person) else np.asarray(person)
    evidence = _case_rows(model, findings, leave_out)
    population = complaint.population_priors(
        model, np.repeat(consulting[None], len(evidence), axis=0)
    )
    marg, log_z = _wide_rows(model, population[0], evidence)
    n, n_roots = model.n_conditions, len(model.root_ids)
    conds, roots, srcs = np.split(marg, [n, n + n_roots], axis=1)
    posts = _posteriors(model, population, evidence, conds, roots, srcs, log_z)
    return posts[0], conds[1:]


def _plans(model: CompiledModel) -> junction.PlanCache:
    """The model's plan cache: owned by the model, so it goes when the model goes."""
    cached: junction.PlanCache | None = model.__dict__.get("_plans")
    if cached is None:
        cached = junction.PlanCache()
        object.__setattr__(model, "_plans", cached)
    return cached


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
    with bucket elimination for any case whose evidence is too wide for the kernel."""
    priors, evidence = encode_evidence(model, cases)
    return posterior_rows(model, priors, evidence)


def posterior_rows(
    model: CompiledModel,
    priors: FloatArray,
    evidence: np.ndarray,
) -> list[Posterior]:
    """``posterior_batch`` on rows already encoded (``encode_evidence``): priors (B, n) and
    evidence (B, F) as int8, -1 unknown, 0 absent, 1 present."""
    check_model(model)
    population = complaint.population_priors(model, priors)
    priors = population[0]
    b, n, r = len(priors), model.n_conditions, len(model.root_ids)
    conds, roots, srcs = np.zeros((b, n)), np.zeros((b, r)), np.zeros((b, N_GROUPS))
    log_z, ok = np.zeros(b), np.zeros(b, dtype=np.bool_)
    bits, entries = _kernel_shape(model, evidence)
    kernel = _kernel(bits, entries)
    on_kernel = (bits <= MAX_BITS) & ~_cheaper_wide(model, evidence, bits, entries, kernel)
    if on_kernel.all():
        _run_kernel(kernel, model, priors, evidence, conds, roots, srcs, log_z, ok)
    elif on_kernel.any():
        some = np.flatnonzero(on_kernel)
        part = (conds[some], roots[some], srcs[some], log_z[some], ok[some])
        _run_kernel(kernel, model, priors[some], evidence[some], *part)
        conds[some], roots[some], srcs[some], log_z[some], ok[some] = part
    # Rows too wide for the kernel go to bucket elimination. Rows that differ only by present
    # findings left unknown and by absent ones (a case's triage combinations, its leave-one-out
    # variants) share one network and run as rows of one pass. Rows the kernel could hold never
    # share a pass with wider ones: their findings could widen it past the bound.
    held = bits <= MAX_BITS
    for kind in (~ok & held, ~ok & ~held):
        for group in _wide_groups(evidence, np.flatnonzero(kind)):
            marg, log_z[group] = _wide_rows(model, priors[group], evidence[group])
            conds[group], roots[group], srcs[group] = np.split(marg, [n, n + r], axis=1)
    return _posteriors(model, population, evidence, conds, roots, srcs, log_z)


def _posteriors(
    model: CompiledModel,
    population: tuple[FloatArray, FloatArray, FloatArray],
    evidence: np.ndarray,
    conds: FloatArray,
    roots: FloatArray,
    srcs: FloatArray,
    log_z: FloatArray,
) -> list[Posterior]:
    """Rows computed on the population priors, conditioned on the complaint
    (:mod:`kneesource.inference.complaint`) and clipped to [0, 1]."""
    for a in (conds, roots, srcs):
        np.clip(a, 0.0, 1.0, out=a)
    complaint.condition(model, population, evidence, conds, roots, srcs, log_z)
    sources = srcs.tolist()
    evidence_log = log_z.tolist()
    return [
        Posterior(
            conds[i], roots[i], dict(zip(SOURCE_GROUPS, sources[i], strict=True)), evidence_log[i]
        )
        for i in range(len(conds))
    ]


def _run_kernel(
    kernel: Callable[..., None],
    model: CompiledModel,
    priors: FloatArray,
    evidence: np.ndarray,
    *out: np.ndarray,
) -> None:
    kernel(
        np.ascontiguousarray(priors),
        *_kernel_model(model),
        np.ascontiguousarray(evidence),
        *out,
    )


def _kernel_model(model: CompiledModel) -> tuple[Any, ...]:
    """The model as the kernels take it, kept on the model: the links (conditions and roots to
    findings, conditions to roots), the leaks, each condition's source group, and the links by
    finding (``kernel_np.links``), worked out once rather than on every call."""
    cached: tuple[Any, ...] | None = model.__dict__.get("_kernel_model")
    if cached is None:
        cached = (
            model.condition_finding,
            model.condition_root,
            model.root_finding,
            model.finding_leak,
            model.root_leak,
            _group_index(model),
            kernel_np.links(model.condition_finding),
            kernel_np.links(model.root_finding),
        )
        object.__setattr__(model, "_kernel_model", cached)
    return cached


def _row_bits(model: CompiledModel, evidence: np.ndarray) -> IntArray:
    """``kernel_bits`` of every row (``_kernel_shape``)."""
    return _kernel_shape(model, evidence)[0]


def _kernel_shape(model: CompiledModel, evidence: np.ndarray) -> tuple[IntArray, FloatArray]:
    """For every row, the compiled kernel's states and work, worked out from the links alone
    (``kernel_np.plan``, which lays rows out as the kernels do):

    * bits: the widest of its states, 2^bits entries (``MAX_BITS`` at most for the kernel): the
      present findings and involved roots (those an observed finding links to) in play at one
      step;
    * entries: its work in entries of ``KERNEL_ENTRY_SECONDS``, ``STEP_ENTRIES`` for each state
      a condition steps over, and never more than ``n_conditions << (present + involved)``,
      the work of a kernel whose single state held both (which it never exceeds).

    Rows whose present findings and involved roots number fewer than ``ROUTE_FROM_BITS`` take
    that bound, which costs less than working out their plan."""
    n = model.n_conditions
    observed = (evidence >= 0).astype(np.float32)
    present = evidence == 1
    involved = (observed @ _root_links(model).T) > 0  # (B, R)
    bits = (present.sum(axis=1) + involved.sum(axis=1)).astype(np.int64)
    entries = n * np.exp2(bits.astype(np.float64))
    for i in np.flatnonzero(bits >= ROUTE_FROM_BITS).tolist():
        shape = _plan_shape(
            model, (present[i].tobytes(), np.flatnonzero(involved[i]).astype(np.int64).tobytes())
        )
        entries[i] = min(STEP_ENTRIES * shape[1], entries[i])
        bits[i] = shape[0]
    return cast(IntArray, bits), cast(FloatArray, entries)


@lru_per(4096)
def _plan_shape(model: CompiledModel, key: tuple[bytes, bytes]) -> tuple[int, float]:
    """The widest state's bits and the steps of ``kernel_np.plan`` for a row with these present
    findings (a row's mask, as bytes) and involved roots (indices, as bytes): the plan reads the
    evidence only through them, so a case's leave-one-out rows mostly share one."""
    cf, cr, rf, fleak, rleak, group = _kernel_model(model)[:6]
    present = np.flatnonzero(np.frombuffer(key[0], dtype=np.bool_))
    lay = kernel_np.plan(
        cf, cr, rf, fleak, rleak, group, present, np.frombuffer(key[1], dtype=np.int64)
    )
    return lay.bits, lay.steps()


def _root_links(model: CompiledModel) -> FloatArray:
    """Root -> finding links as a 0/1 matrix (R, F), kept on the model."""
    cached: FloatArray | None = model.__dict__.get("_root_links")
    if cached is None:
        cached = (model.root_finding > 0.0).astype(np.float32)
        object.__setattr__(model, "_root_links", cached)
    return cached


# Which exact method runs a row the kernel could hold. The kernel's work grows as 2^bits
# whatever the findings; bucket elimination's follows how widely the present findings share
# their causes, and is often far smaller for the same rows (a row of 16 bits: 2.2 million
# entries of the kernel's single state of that time against 0.05-6 million for bucket
# elimination). Times measured on the leave-one-out rows of the results of 80 simulated
# interviews (x86_64, 2 cores): that kernel about 2.4 ns an entry of its state
# (``n_conditions << bits``; the kernel's work now counts in the same entries,
# ``_kernel_shape``), bucket elimination
# about 1 ns an entry of its plan for each row and 7 ms a pass, plus a few ms to plan a new
# structure. With the rows as the inner loop of bucket elimination's tables, a pass of a few
# dozen rows costs 0.4-0.7 ns an entry of each row (0.6 below; at 0.4 one result in 60 was
# sent to a pass six times slower than the kernel). Rows are compared in the groups that would
# share a pass (``_wide_groups``), and only when the kernel's estimate for them passes
# ``ROUTE_FROM_SECONDS``, so that cheap rows never pay for a plan.
KERNEL_ENTRY_SECONDS = 2.4e-9
# A condition's step over one state of the kernel (its forward and backward steps, the variants'
# reruns, and the joining and leaving around it) took 10-16 ns (median and 90th centile, 57
# random rows of over 10^6 ns of estimated work, x86_64, 2 cores), about 4 entries of
# KERNEL_ENTRY_SECONDS; estimated so, 60 such rows of 14 to 16 bits took 0.94-1.06 of their
# estimate (medians by bits; the slowest about twice it).
STEP_ENTRIES = 4.0
WIDE_ENTRY_SECONDS = 0.6e-9
WIDE_PASS_SECONDS = 7e-3
ROUTE_FROM_SECONDS = 0.02
ROUTE_FROM_BITS = 12  # rows below this are never worth a pass of their own


def _cheaper_wide(
    model: CompiledModel,
    evidence: np.ndarray,
    bits: IntArray,
    entries: FloatArray,
    kernel: Callable[..., None],
) -> np.ndarray:
    """Rows the kernel could hold that bucket elimination runs faster (all False when the rows
    are cheap): both are exact, so this only chooses the time."""
    routed = np.zeros(len(evidence), dtype=np.bool_)
    candidates = np.flatnonzero((bits >= ROUTE_FROM_BITS) & (bits <= MAX_BITS))
    if not len(candidates):
        return routed
    per_entry = NUMPY_ENTRY_SECONDS if kernel is kernel_np.batch else KERNEL_ENTRY_SECONDS
    if _parallel(kernel, len(evidence)):
        per_entry /= os.cpu_count() or 1
    kernel_s = entries * per_entry
    if kernel_s[candidates].sum() < ROUTE_FROM_SECONDS:
        return routed
    for group in _wide_groups(evidence, candidates):
        if kernel_s[group].sum() < ROUTE_FROM_SECONDS:
            continue
        present = np.flatnonzero((evidence[group] == 1).any(axis=0))
        wide = _wide_row_cost(
            model, (frozenset(model.finding_ids[int(f)] for f in present), frozenset())
        )
        if WIDE_PASS_SECONDS + WIDE_ENTRY_SECONDS * wide * len(group) < kernel_s[group].sum():
            routed[group] = True
    return routed


def _parallel(kernel: Callable[..., None], rows: int) -> bool:
    """Whether ``kernel`` runs ``rows`` on worker threads."""
    if kernel is kernel_np.batch:
        return False
    from kneesource.inference.kernel import runs_parallel

    return runs_parallel(rows)


# A wide row joins a group of rows when that adds at most this many present findings to the
# group's network (a case's triage combinations differ by a few warning signs).
GROUP_SLACK = 4


def _wide_groups(evidence: np.ndarray, wide: np.ndarray) -> list[list[int]]:
    """The wide rows in groups that can share a network: no finding present in one row of a
    group and absent in another, and a row joins only if it adds at most ``GROUP_SLACK`` present
    findings to the group. Rows with the most present findings are placed first."""
    groups: list[tuple[np.ndarray, np.ndarray, list[int]]] = []  # present, absent, members
    order = sorted(wide.tolist(), key=lambda i: -int((evidence[i] == 1).sum()))
    for i in order:
        on, off = evidence[i] == 1, evidence[i] == 0
        for k, (present, absent, members) in enumerate(groups):
            if (on & absent).any() or (off & present).any():
                continue
            if int((on & ~present).sum()) <= GROUP_SLACK:
                groups[k] = (present | on, absent | off, [*members, i])
                break
        else:
            groups.append((on, off, [i]))
    return [sorted(members) for _, _, members in groups]


def _wide_rows(
    model: CompiledModel, priors: FloatArray, evidence: np.ndarray
) -> tuple[FloatArray, FloatArray]:
    """Bucket elimination on rows of population priors: the marginals (rows, conditions + roots
    + source groups) and log P(e) (rows,)."""
    result = _run(model, rows_network(model, priors, evidence))
    return np.array(result.marginals, dtype=np.float64), np.array(result.log_z, dtype=np.float64)


def _run(model: CompiledModel, net: junction.Network) -> junction.Result:
    """Bucket elimination on ``net``, refused before any work beyond the stated bound."""
    the_plan = junction.plan(net, _plans(model))
    if not the_plan.feasible:
        raise TooComplexError(
            f"this case's present findings share their possible causes so widely that exact "
            f"inference would need tables of 2^{the_plan.max_cluster_bits} entries (the bound is "
            f"2^{junction.MAX_CLUSTER_BITS}); leave out findings that are not really present"
        )
    return junction.run(net, the_plan)


# Seconds of numpy kernel work a process does before it loads the compiled kernel instead.
# Loading it (importing the compiler, linking its cached machine code) costs about 0.6 s on a
# 2-core machine, more than a single assessment needs in all; a long run (a file of cases, an
# interview, a server) or one heavy batch soon passes this and then runs compiled. The work is
# estimated before it runs from the numpy kernel's cost on that machine: about half a
# millisecond a row plus 8 ns for each entry of its state (``n_conditions << bits``).
COMPILED_AFTER = 0.5
NUMPY_ROW_SECONDS = 5e-4
NUMPY_ENTRY_SECONDS = 8e-9
_numpy_seconds = 0.0
_compiled: Callable[..., None] | None = None


def _kernel(bits: IntArray, entries: FloatArray) -> Callable[..., None]:
    """The kernel for rows of these ``_kernel_shape``s: numpy until the process has spent, or
    would spend, enough time in it to repay loading the compiled kernel; compiled from then on
    (both give the same numbers)."""
    global _numpy_seconds
    if _compiled is not None:
        return _compiled
    held = float(entries[bits <= MAX_BITS].sum())
    cost = len(bits) * NUMPY_ROW_SECONDS + held * NUMPY_ENTRY_SECONDS
    if _numpy_seconds + cost < COMPILED_AFTER:
        _numpy_seconds += cost
        return kernel_np.batch
    return load_compiled()


def load_compiled() -> Callable[..., None]:
    """Load the compiled kernel now (a server or an interview does this at start-up, so that no
    answer waits for it) and use it for every later batch."""
    global _compiled
    if _compiled is None:
        from kneesource.inference.kernel import batch_kernel

        _compiled = batch_kernel
    return _compiled


def load_threaded(model: CompiledModel) -> None:
    """Load the threaded form of the compiled kernel and start its threads, by scoring
    ``PARALLEL_FROM`` rows of a person who has said nothing (a server does this at start-up: the
    interview scores that many answers at once, and the first such batch of a process would
    otherwise wait for the load, several seconds when the on-disk cache is empty). In a process
    that gave up threads (``threads.single_threaded``) the rows run serially."""
    from kneesource.inference.kernel import PARALLEL_FROM

    load_compiled()
    posterior_batch(model, [(Person(age=40), {})] * PARALLEL_FROM)


def warm_up(model: CompiledModel) -> None:
    """Compile every kernel once into the on-disk cache (``scripts/setup`` runs this after an
    install), so that the first assessment a person asks for does not wait for the compiler:
    the serial and the threaded batch kernels, and bucket elimination's table kernels, their
    threaded forms included."""
    load_threaded(model)
    posterior_batch(model, [(Person(age=40), {})])
    junction.load_kernels()
