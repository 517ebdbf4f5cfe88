"""The compiled kernel's algorithm (``kernel``) in plain numpy, for a few cases at a time.

The same forward-backward pass over the subsets of the present findings and roots in play (laid
out by ``plan``, which the cost estimates in ``exact`` use too), the same order of conditions and
the same query variants, with each loop over states written as an operation on a
reshaped view of the state vector. Per case it is slower than the compiled kernel, but it needs
no compiler: loading the compiled kernel costs most of a second in a new process (importing the
compiler and linking the cached machine code), more than a single assessment needs in total.
``exact.posterior_rows`` uses it for small batches until the compiled kernel is loaded; the two
agree to rounding (``tests/inference/test_kernel_numpy.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# The largest state the kernels hold: 2^MAX_BITS entries (the present findings and involved
# roots in play at one step, ``Plan``).
MAX_BITS = 16
N_GROUPS = 5


def _pairs(y: Any, bit: int, within: int) -> tuple[Any, Any]:
    """Views of the states with ``bit`` off and on (among those with bit ``within`` set, when
    ``within`` >= 0)."""
    if within < 0:
        pairs = y.reshape(-1, 2, 1 << bit)
        return pairs[:, 0, :], pairs[:, 1, :]
    if within > bit:
        pairs = y.reshape(-1, 2, 1 << (within - bit - 1), 2, 1 << bit)[:, 1]
        return pairs[..., 0, :], pairs[..., 1, :]
    pairs = y.reshape(-1, 2, 1 << (bit - within - 1), 2, 1 << within)[:, :, :, 1, :]
    return pairs[:, 0], pairs[:, 1]


def _activate(y: Any, bit: int, p: float, transpose: bool, within: int = -1) -> None:
    off, on = _pairs(y, bit, within)
    if transpose:
        off += p * (on - off)
    else:
        moved = off * p
        on += moved
        off -= moved


def _emit(y: Any, root_bit: int, p_emit: Any, weight: float, transpose: bool) -> None:
    y.reshape(-1, 2, 1 << root_bit)[:, 1, :] *= weight
    for j in np.flatnonzero(p_emit > 0.0):
        _activate(y, int(j), float(p_emit[j]), transpose, root_bit)


def _moved(src: Any, act_c: Any, transpose: bool) -> Any:
    out = src.copy()
    for b in np.flatnonzero(act_c > 0.0):
        _activate(out, int(b), float(act_c[b]), transpose)
    return out


def _step(x: Any, act_c: Any, on: float, off: float) -> float:
    """In place: one condition's forward step, renormalised; returns the scale removed."""
    moved = _moved(x, act_c, False)
    x *= off
    x += on * moved
    total = float(x.sum())
    x /= total
    return total


def _back_step(alpha: Any, beta: Any, act_c: Any, on: float, off: float) -> tuple[float, float]:
    """One condition's backward step, in place on ``beta``: its posterior and the scale removed."""
    stay = float(beta @ alpha)
    go = float(beta @ _moved(alpha, act_c, False))
    posterior = on * go / (off * stay + on * go)
    moved = _moved(beta, act_c, True)
    beta *= off
    beta += on * moved
    top = float(beta.max())
    beta /= top
    return posterior, top


# Operations between the conditions' steps (``Plan.ops``): a finding leaves, keeping the states
# where it is on (the evidence needs it on); a finding or a root joins as the top bit, on by its
# leak; a root emits its findings (its weight on the states where it is on, then its
# activations there); a root leaves, summed out.
LEAVE, JOIN, EMIT, SUM = 0, 1, 2, 3


def _forward_ops(y: Any, ops: list[tuple[Any, ...]], roots_before: list[Any]) -> tuple[Any, float]:
    """The operations ``ops`` on a forward state, then renormalised: the state and the scale
    removed. Before a root is summed out its state is kept in ``roots_before`` (for its
    posterior)."""
    for op in ops:
        kind, position = op[0], op[1]
        if kind == LEAVE:
            y = y.reshape(-1, 2, 1 << position)[:, 1, :].reshape(-1)
        elif kind == JOIN:
            y = np.concatenate([y * (1.0 - op[2]), y * op[2]])
        elif kind == EMIT:
            y = y.copy()
            _emit(y, position, op[3], op[2], False)
        else:
            roots_before.append(y)
            y = y.reshape(-1, 2, 1 << position).sum(axis=1).reshape(-1)
    total = float(y.sum())
    return y / total, total


def _backward_ops(
    y: Any, ops: list[tuple[Any, ...]], roots_before: list[Any], out_root: Any, roots: Any
) -> Any:
    """The transpose of ``_forward_ops`` (without its renormalising), on a backward message;
    where a root was summed out, its posterior from the state kept then (``roots_before``, taken
    from the end)."""
    for op in reversed(ops):
        kind, position = op[0], op[1]
        if kind == LEAVE:
            wider = np.zeros(2 * len(y))
            wider.reshape(-1, 2, 1 << position)[:, 1, :] = y.reshape(-1, 1 << position)
            y = wider
        elif kind == JOIN:
            half = len(y) // 2
            y = y[:half] + op[2] * (y[half:] - y[:half])
        elif kind == EMIT:
            y = y.copy()
            _emit(y, position, op[3], op[2], True)
        else:
            y = np.repeat(y.reshape(-1, 1, 1 << position), 2, axis=1).reshape(-1)
            before = roots_before.pop()
            both = float(before @ y)
            on = float(
                before.reshape(-1, 2, 1 << position)[:, 1, :].reshape(-1)
                @ y.reshape(-1, 2, 1 << position)[:, 1, :].reshape(-1)
            )
            out_root[roots[op[2]]] = on / both
    return y


def links(w: Any) -> tuple[Any, Any, Any]:
    """The links of a (causes, findings) weight matrix by finding, for the compiled kernel to
    fold absent findings: finding f's causes are ``cause[start[f]:start[f + 1]]`` (in order),
    with log(1 - weight) ``keep``, so a row's absent findings cost their links, not every
    cause."""
    finding, cause = np.nonzero(w.T > 0.0)
    start = np.concatenate([[0], np.cumsum(np.bincount(finding, minlength=w.shape[1]))])
    return start.astype(np.int64), cause.astype(np.int64), np.log1p(-w[cause, finding])


@dataclass(frozen=True)
class Plan:
    """How the kernels lay out one case (``kernel._case_py`` works it out the same way).

    ``dp`` are the conditions linked to a present finding or an involved root (an observed
    finding links to it), in order: those linked to an involved root first, then by source
    group and by the roots they link to. The state holds only the findings and roots in play:
    a root joins (by its leak) at the first condition linked to it, and emits its findings and
    leaves (summed out) after the last; a present finding joins (by its leak) at the first
    condition or root that activates it and leaves, keeping its "on" states, after the last.
    ``ops[b]`` are the operations before step ``b`` (``ops[len(dp)]``, after the last), and
    ``layouts[b]`` what is on each bit of the state at step ``b``: a present finding (an index
    into ``present``) or a root (``len(present)`` + its index into ``roots``). ``lonely`` are
    the present findings nothing in ``dp`` or ``roots`` causes (on by their leak alone)."""

    present: Any
    roots: Any
    dp: Any
    ops: list[list[tuple[Any, ...]]]
    layouts: list[list[int]]
    lonely: Any
    bits: int  # the widest state's: ``MAX_BITS`` at most for the kernels to hold it

    def steps(self) -> float:
        """The states the conditions step over."""
        return sum(2.0 ** len(lay) for lay in self.layouts[:-1])


def plan(
    cf: Any, cr: Any, rf: Any, fleak: Any, rleak: Any, group: Any, present: Any, roots: Any
) -> Plan:
    """The ``Plan`` of a case with these present findings and involved roots (indices): the
    links and those alone decide it."""
    n, nr = cr.shape
    m, k = len(present), len(roots)
    root_link = cr[:, roots] > 0.0  # (n, k)
    touches = np.where(root_link.any(axis=1), 2, np.where((cf[:, present] > 0.0).any(axis=1), 1, 0))
    in_first = np.zeros(N_GROUPS, np.bool_)
    in_first[group[touches == 2]] = True
    links = ((cr > 0.0) * (1 << np.arange(nr))).sum(axis=1)
    part = np.where(touches == 2, 0, 2 - in_first[group].astype(np.int64))
    key = np.where(touches > 0, (((part << 3) | group) << nr) | links, -1)
    n_dp = int((touches > 0).sum())
    dp = np.argsort(key, kind="mergesort")[n - n_dp :]
    # Times: step d at 2d + 1, the emissions before step b at 2b (in the roots' order).
    linked = root_link[dp]  # (n_dp, k)
    if n_dp:
        last_link = np.where(linked.any(axis=0), n_dp - 1 - linked[::-1].argmax(axis=0), -1)
        first_link = np.where(linked.any(axis=0), linked.argmax(axis=0), -1)
    else:
        last_link = first_link = np.full(k, -1)
    emit_at = last_link + 1  # the boundary where each root emits and leaves
    activates = cf[np.ix_(dp, present)] > 0.0  # (n_dp, m)
    emits = rf[np.ix_(roots, present)] > 0.0  # (k, m)
    first_t = np.full(m, np.inf)
    last_t = np.full(m, -np.inf)
    for j in range(m):
        steps = np.flatnonzero(activates[:, j])
        times = [2.0 * d + 1.0 for d in steps] + [
            2.0 * emit_at[i] + i / (k + 1.0) for i in np.flatnonzero(emits[:, j])
        ]
        if times:
            first_t[j], last_t[j] = min(times), max(times)
    lonely = present[np.isinf(first_t)]
    layout: list[int] = []
    ops: list[list[tuple[Any, ...]]] = []
    layouts: list[list[int]] = []
    widest = [0]

    def leave(j: int, here: list[tuple[Any, ...]]) -> None:
        here.append((LEAVE, layout.index(j)))
        layout.remove(j)

    def join(label: int, leak: float, here: list[tuple[Any, ...]]) -> None:
        here.append((JOIN, len(layout), leak))
        layout.append(label)
        widest[0] = max(widest[0], len(layout))

    for b in range(n_dp + 1):
        here: list[tuple[Any, ...]] = []
        for j in np.flatnonzero(last_t == 2.0 * b - 1.0).tolist():  # after step b - 1
            leave(j, here)
        for i in np.flatnonzero(emit_at == b).tolist():
            t_i = 2.0 * b + i / (k + 1.0)
            for j in np.flatnonzero(first_t == t_i).tolist():
                join(j, float(fleak[present[j]]), here)
            if m + i not in layout:  # a root no condition links to
                join(m + i, float(rleak[roots[i]]), here)
            p_emit = np.zeros(len(layout))
            for q, label in enumerate(layout):
                if label < m:
                    p_emit[q] = rf[roots[i], present[label]]
            r = layout.index(m + i)
            here.append((EMIT, r, i, p_emit))
            here.append((SUM, r, i))
            layout.remove(m + i)
            for j in np.flatnonzero(last_t == t_i).tolist():
                leave(j, here)
        if b < n_dp:
            for i in np.flatnonzero(first_link == b).tolist():
                join(m + i, float(rleak[roots[i]]), here)
            for j in np.flatnonzero(first_t == 2.0 * b + 1.0).tolist():
                join(j, float(fleak[present[j]]), here)
        ops.append(here)
        layouts.append(list(layout))
    return Plan(present, roots, dp, ops, layouts, lonely, widest[0])


def case(
    prior: Any,
    cf: Any,
    cr: Any,
    rf: Any,
    fleak: Any,
    rleak: Any,
    group: Any,
    ev: Any,
    out_cond: Any,
    out_root: Any,
    out_src: Any,
) -> tuple[float, bool]:
    """One case, with the arguments and results of ``kernel._case_py``."""
    n = cf.shape[0]
    nr = rleak.shape[0]
    absent = ev == 0
    lay = plan(
        cf,
        cr,
        rf,
        fleak,
        rleak,
        group,
        np.flatnonzero(ev == 1),
        np.flatnonzero(((rf > 0.0) & (ev >= 0)).any(axis=1)),
    )
    if lay.bits > MAX_BITS:
        return 0.0, False
    present, roots, dp = lay.present, lay.roots, lay.dp
    m, n_dp = len(present), len(dp)
    log_const = float(np.log1p(-fleak[absent]).sum() + np.log(fleak[lay.lonely]).sum())
    log_w = np.log1p(-cf[:, absent]).sum(axis=1)
    emit_w = np.exp(np.log1p(-rf[:, absent]).sum(axis=1))
    # The roots' weights (their absent findings) go into their emissions.
    ops = [
        [(EMIT, op[1], float(emit_w[roots[op[2]]]), op[3]) if op[0] == EMIT else op for op in here]
        for here in lay.ops
    ]
    in_dp = np.zeros(n, np.bool_)
    in_dp[dp] = True
    weight = np.exp(log_w)
    on_w = prior * weight
    off_w = 1.0 - prior

    def act(d: int) -> Any:
        """The activations of step ``d``, by bit of its state."""
        c = dp[d]
        return np.array(
            [cf[c, present[lab]] if lab < m else cr[c, roots[lab - m]] for lab in lay.layouts[d]]
        )

    acts = [act(d) for d in range(n_dp)]
    involved = np.zeros(nr, np.bool_)
    involved[roots] = True

    # Forward pass: alphas[d] is the state before condition dp[d] (after the operations before
    # it), scaled by exp(-log_a[d]).
    alphas: list[Any] = []
    log_a = np.zeros(n_dp + 1)
    roots_before: list[Any] = []
    x = np.ones(1)
    log_x = 0.0
    for d in range(n_dp + 1):
        x, scale = _forward_ops(x, ops[d], roots_before)
        log_x += np.log(scale)
        alphas.append(x.copy())
        log_a[d] = log_x
        if d < n_dp:
            c = dp[d]
            log_x += np.log(_step(x, acts[d], float(on_w[c]), float(off_w[c])))
    dp_log = log_x  # everything has left: the state is the single entry 1

    # Backward pass: betas[d] is what the evidence asks of the state before condition dp[d].
    betas: list[Any] = [None] * (n_dp + 1)
    log_b = np.zeros(n_dp + 1)
    beta = np.ones(1)
    betas[n_dp] = beta.copy()
    for d in range(n_dp - 1, -1, -1):
        beta = _backward_ops(beta, ops[d + 1], roots_before, out_root, roots)
        c = dp[d]
        p_c, top = _back_step(alphas[d], beta, acts[d], float(on_w[c]), float(off_w[c]))
        out_cond[c] = p_c
        betas[d] = beta.copy()
        log_b[d] = log_b[d + 1] + np.log(top)
    _backward_ops(beta, ops[0], roots_before, out_root, roots)
    outside = ~in_dp
    out_cond[outside] = on_w[outside] / (off_w[outside] + on_w[outside])

    # Variants: 0 base, 1..5 source groups cleared, 6.. each root's links counted as absent.
    n_var = 1 + N_GROUPS + nr
    mult = np.ones((n_var, n))
    mult[1 + group, np.arange(n)] = 0.0
    mult[1 + N_GROUPS :] = 1.0 - cr.T
    log_total = np.zeros(n_var)
    dp_mult = mult[:, dp]
    for v in range(n_var):
        if v > N_GROUPS and involved[v - 1 - N_GROUPS]:
            continue  # an involved root's posterior comes from the state itself
        log_total[v] += np.log1p(prior[outside] * (weight[outside] * mult[v, outside] - 1.0)).sum()
        changed = np.flatnonzero(dp_mult[v] != 1.0)
        if len(changed) == 0:
            log_total[v] += dp_log
            continue
        first, last = int(changed[0]), int(changed[-1])
        y = alphas[first].copy()
        log_y = log_a[first]
        for d in range(first, last + 1):
            c = dp[d]
            log_y += np.log(_step(y, acts[d], float(on_w[c] * mult[v, c]), float(off_w[c])))
            y, scale = _forward_ops(y, ops[d + 1], [])
            log_y += np.log(scale)
        log_total[v] += log_y + log_b[last + 1] + np.log(float(y @ betas[last + 1]))

    out_src[:] = -np.expm1(log_total[1 : 1 + N_GROUPS] - log_total[0])
    for r in range(nr):
        if not involved[r]:
            out_root[r] = -np.expm1(
                np.log1p(-rleak[r]) + log_total[1 + N_GROUPS + r] - log_total[0]
            )
    return float(log_total[0] + log_const), True


def batch(
    prior: Any,
    cf: Any,
    cr: Any,
    rf: Any,
    fleak: Any,
    rleak: Any,
    group: Any,
    c_links: Any,
    r_links: Any,
    ev: Any,
    out_cond: Any,
    out_root: Any,
    out_src: Any,
    out_log: Any,
    out_ok: Any,
) -> None:
    """Every case (row of ``ev``), with the arguments of ``kernel.batch_kernel`` (the compiled
    kernel reads the absent findings' weights from the ``links``; here matrix products fold
    them)."""
    for i in range(ev.shape[0]):
        out_log[i], out_ok[i] = case(
            prior[i], cf, cr, rf, fleak, rleak, group, ev[i], out_cond[i], out_root[i], out_src[i]
        )
