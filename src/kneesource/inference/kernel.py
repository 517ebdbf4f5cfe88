"""Compiled exact inference for one case at a time (numba), used for single cases and batches.

Exact posteriors by a state over the subsets of present findings, written as loops for a compiler:
absent findings fold into the conditions' and roots' weights; present findings and the roots the
evidence involves become bits of state vectors; conditions outside the pruned network are updated
in closed form; a forward-backward pass gives every posterior as a local ratio of sums of
non-negative terms (no cancellation). The state is renormalised after every condition and its
log scale kept.

The conditions run in a fixed order (those linked to a root the evidence involves first), and
the state holds only what is in play at each step: a root joins (by its leak) before the first
condition linked to it, and after the last it emits its findings and leaves, summed out; a
present finding joins (by its leak) before the first step or emission that activates it, and
leaves after the last, keeping only its "on" states (the evidence needs it on). Activations
commute, so when a bit is activated does not matter. For the result of an interview with a dozen
present findings the widest state is 2^10-2^13 entries where a single state of every present
finding and root needed 2^16-2^20, and rows with far more present findings than ``MAX_BITS`` fit
when few are in play at once. ``kernel_np.plan`` describes the layout; this module works it out
the same way. A root's posterior comes from its state when it is summed out and the backward
message there.

Query variants (a source group's conditions cleared; a root's links counted as absent) change a
few conditions' weights: each reruns the forward pass over just those conditions, starting from
the stored forward state and finishing against the stored backward message. Cases whose widest
state would exceed ``MAX_BITS`` bits are not computed here (``ok`` is False) and go to bucket
elimination in ``junction``, whose cost follows the treewidth of the evidence instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit, prange

from kneesource.inference import threads
from kneesource.inference.kernel_np import MAX_BITS, N_GROUPS


def _activate_py(y: Any, size: int, bit: int, p: float, transpose: bool, within: int) -> None:
    """In place, on the states that contain ``within`` (0, or one bit other than ``bit``): mass
    at S (bit off) moves to S with the bit on with probability p (or the transpose, for backward
    vectors).

    The loops visit only the states concerned, in runs of consecutive states: with ``lo`` and
    ``hi`` the lower and higher of the two bits, every state with both clear is ``h + g + s``
    for ``h`` a multiple of ``2 hi``, ``g`` one of ``2 lo`` below ``hi`` and ``s`` below ``lo``."""
    mask = 1 << bit
    other = within if within != 0 else mask
    lo = min(mask, other)
    hi = max(mask, other)
    for h in range(0, size, 2 * hi):
        for g in range(h, h + hi, 2 * lo):
            for s in range(g + within, g + within + lo):
                if transpose:
                    y[s] += p * (y[s + mask] - y[s])
                else:
                    moved = y[s] * p
                    y[s + mask] += moved
                    y[s] -= moved


def _emit_py(
    y: Any, size: int, root_bit: int, m: int, p_emit: Any, weight: float, transpose: bool
) -> None:
    """On the states where the root bit is set: the root's weight, then its activations
    (``p_emit``, by bit of the state: the first ``m`` bits, the root's own at 0)."""
    rmask = 1 << root_bit
    for s in range(size):
        if s & rmask:
            y[s] *= weight
    for j in range(m):
        if p_emit[j] > 0.0:
            _activate(y, size, j, p_emit[j], transpose, rmask)


def _moved_py(src: Any, out: Any, size: int, act_c: Any, n_bits: int, transpose: bool) -> None:
    """``out`` = ``src`` with every bit the condition can activate activated (or the transpose,
    for backward vectors)."""
    for s in range(size):
        out[s] = src[s]
    for b in range(n_bits):
        if act_c[b] > 0.0:
            _activate(out, size, b, act_c[b], transpose, 0)


def _step_py(
    x: Any, size: int, act_c: Any, n_bits: int, on: float, off: float, scratch: Any
) -> float:
    """In place: one condition's step of the forward pass (off: state unchanged; on: the
    condition activates its bits), then renormalised; returns the scale removed."""
    _moved(x, scratch, size, act_c, n_bits, False)
    total = 0.0
    for s in range(size):
        x[s] = off * x[s] + on * scratch[s]
        total += x[s]
    for s in range(size):
        x[s] /= total
    return total


def _back_step_py(
    alpha: Any,
    beta: Any,
    size: int,
    act_c: Any,
    n_bits: int,
    on: float,
    off: float,
    scratch: Any,
) -> tuple[float, float]:
    """One condition's step of the backward pass, in place on ``beta`` (renormalised): returns
    the condition's posterior, from the forward state before it, and the scale removed."""
    _moved(alpha, scratch, size, act_c, n_bits, False)
    stay = 0.0
    go = 0.0
    for s in range(size):
        stay += beta[s] * alpha[s]
        go += beta[s] * scratch[s]
    posterior = on * go / (off * stay + on * go)
    _moved(beta, scratch, size, act_c, n_bits, True)
    top = 0.0
    for s in range(size):
        beta[s] = off * beta[s] + on * scratch[s]
        if beta[s] > top:
            top = beta[s]
    for s in range(size):
        beta[s] /= top
    return posterior, top


def _close_py(y: Any, w: int, p: int) -> None:
    """In place: a finding no later step activates leaves the state, which keeps only the states
    where it is on (the evidence needs it on): from ``w`` bits to ``w - 1``, without the bit at
    position ``p``."""
    low = (1 << p) - 1
    for s in range(1 << (w - 1)):
        y[s] = y[((s >> p) << (p + 1)) | (1 << p) | (s & low)]


def _unclose_py(y: Any, w: int, p: int) -> None:
    """The transpose of ``_close``, in place: from ``w - 1`` bits to ``w``, zero where the bit at
    position ``p`` is off."""
    low = (1 << p) - 1
    for s in range((1 << w) - 1, -1, -1):
        if s & (1 << p):
            y[s] = y[((s >> (p + 1)) << p) | (s & low)]
        else:
            y[s] = 0.0


def _sum_out_py(y: Any, w: int, p: int) -> None:
    """In place: a root leaves the state, summed out: from ``w`` bits to ``w - 1``, without the
    bit at position ``p``."""
    low = (1 << p) - 1
    for s in range(1 << (w - 1)):
        off = ((s >> p) << (p + 1)) | (s & low)
        y[s] = y[off] + y[off | (1 << p)]


def _lift_py(y: Any, w: int, p: int) -> None:
    """The transpose of ``_sum_out``, in place: from ``w - 1`` bits to ``w``, the same value
    whether the bit at position ``p`` is on or off."""
    low = (1 << p) - 1
    for s in range((1 << w) - 1, -1, -1):
        y[s] = y[((s >> (p + 1)) << p) | (s & low)]


def _open_py(y: Any, w: int, leak: float) -> None:
    """In place: a finding or a root joins the state as its top bit, on by its leak: ``w`` bits
    to ``w + 1``."""
    half = 1 << w
    for s in range(half):
        y[s + half] = y[s] * leak
        y[s] -= y[s + half]


def _unopen_py(y: Any, w: int, leak: float) -> None:
    """The transpose of ``_open``, in place: ``w + 1`` bits to ``w``."""
    half = 1 << w
    for s in range(half):
        y[s] += leak * (y[s + half] - y[s])


# Operations between the conditions' steps (``kernel_np.Plan``): a finding leaves, a finding or
# a root joins, a root emits its findings, a root leaves (summed out).
_LEAVE, _JOIN, _EMIT, _SUM = 0, 1, 2, 3


def _apply_ops_py(
    y: Any,
    w: int,
    kind: Any,
    pos: Any,
    val: Any,
    idx: Any,
    emit_p: Any,
    lo: int,
    hi: int,
    keep: bool,
    kept: Any,
    kept_w: Any,
) -> tuple[int, float]:
    """In place on a forward state of ``w`` bits: operations ``lo`` to ``hi`` (a position
    ``pos``, a leak or a root's weight ``val``, a root ``idx``), then renormalised; returns the
    new width and the scale removed. With ``keep``, a root's state before it is summed out goes
    to ``kept`` (for its posterior)."""
    for o in range(lo, hi):
        if kind[o] == _LEAVE:
            _close(y, w, pos[o])
            w -= 1
        elif kind[o] == _JOIN:
            _open(y, w, val[o])
            w += 1
        elif kind[o] == _EMIT:
            _emit(y, 1 << w, pos[o], w, emit_p[idx[o]], val[o], False)
        else:
            if keep:
                for s in range(1 << w):
                    kept[idx[o], s] = y[s]
                kept_w[idx[o]] = w
            _sum_out(y, w, pos[o])
            w -= 1
    total = 0.0
    for s in range(1 << w):
        total += y[s]
    for s in range(1 << w):
        y[s] /= total
    return w, total


def _unapply_ops_py(
    y: Any,
    w: int,
    kind: Any,
    pos: Any,
    val: Any,
    idx: Any,
    emit_p: Any,
    lo: int,
    hi: int,
    kept: Any,
    roots: Any,
    out_root: Any,
) -> int:
    """The transpose of ``_apply_ops`` (without its renormalising), in place on a backward
    message of ``w`` bits; returns the width before those operations. Where a root was summed
    out, its posterior from the state kept then."""
    for o in range(hi - 1, lo - 1, -1):
        if kind[o] == _LEAVE:
            w += 1
            _unclose(y, w, pos[o])
        elif kind[o] == _JOIN:
            w -= 1
            _unopen(y, w, val[o])
        elif kind[o] == _EMIT:
            _emit(y, 1 << w, pos[o], w, emit_p[idx[o]], val[o], True)
        else:
            w += 1
            _lift(y, w, pos[o])
            both = 0.0
            on = 0.0
            for s in range(1 << w):
                both += kept[idx[o], s] * y[s]
                if s & (1 << pos[o]):
                    on += kept[idx[o], s] * y[s]
            out_root[roots[idx[o]]] = on / both
    return w


def _case_py(
    prior: Any,  # (n,)
    cf: Any,  # (n, F) condition -> finding weights
    cr: Any,  # (n, R) condition -> root weights
    rf: Any,  # (R, F) root -> finding weights
    fleak: Any,  # (F,)
    rleak: Any,  # (R,)
    group: Any,  # (n,) index of each condition's source group
    ev: Any,  # (F,) int8: -1 unknown, 0 absent, 1 present
    out_cond: Any,  # (n,)
    out_root: Any,  # (R,)
    out_src: Any,  # (N_GROUPS,)
    c_links: tuple[Any, Any, Any],  # ``kernel_np.links`` of cf
    r_links: tuple[Any, Any, Any],  # ``kernel_np.links`` of rf
) -> tuple[float, bool]:
    n, nf = cf.shape
    nr = rleak.shape[0]
    log_w = np.zeros(n)
    log_u = np.zeros(nr)
    log_const = 0.0
    present = np.empty(nf, np.int64)
    m = 0
    c_start, c_cause, c_keep = c_links
    r_start, r_cause, r_keep = r_links
    for f in range(nf):
        if ev[f] == 1:
            present[m] = f
            m += 1
        elif ev[f] == 0:
            log_const += np.log1p(-fleak[f])
            for at in range(c_start[f], c_start[f + 1]):
                log_w[c_cause[at]] += c_keep[at]
            for at in range(r_start[f], r_start[f + 1]):
                log_u[r_cause[at]] += r_keep[at]
    roots = np.empty(nr, np.int64)
    involved = np.zeros(nr, np.bool_)
    k = 0
    for r in range(nr):
        for f in range(nf):
            if ev[f] >= 0 and rf[r, f] > 0.0:
                involved[r] = True
                break
        if involved[r]:
            roots[k] = r
            k += 1
    n_bits = m + k
    # Each condition's activations: of the present findings, then of the involved roots (the
    # labels of the state's bits below: a present finding j, or root i as m + i).
    act = np.zeros((n, n_bits))
    touches = np.zeros(n, np.int64)  # 0 outside the DP, 1 findings only, 2 an involved root
    in_first = np.zeros(N_GROUPS, np.bool_)
    for c in range(n):
        for j in range(m):
            act[c, j] = cf[c, present[j]]
            if act[c, j] > 0.0:
                touches[c] = 1
        for i in range(k):
            act[c, m + i] = cr[c, roots[i]]
            if act[c, m + i] > 0.0:
                touches[c] = 2
        if touches[c] == 2:
            in_first[group[c]] = True
    # The order of the conditions: those that activate an involved root first; then by source
    # group (groups with a condition linked to an involved root first) and by the roots they link
    # to, so a variant below (a group cleared, a root's links removed) changes one short run of
    # steps.
    key = np.full(n, -1, np.int64)
    n_dp = 0
    for c in range(n):
        if touches[c] > 0:
            links = 0
            for r in range(nr):
                if cr[c, r] > 0.0:
                    links |= 1 << r
            part = 0 if touches[c] == 2 else 2 - int(in_first[group[c]])
            key[c] = (((part << 3) | group[c]) << nr) | links
            n_dp += 1
    in_dp = key >= 0
    dp = np.argsort(key, kind="mergesort")[n - n_dp :]
    emit_w = np.empty(k)
    for i in range(k):
        emit_w[i] = np.exp(log_u[roots[i]])

    # The plan (as ``kernel_np.plan``): the state holds only what is in play. A root joins (by
    # its leak) before the first condition linked to it, and after the last it emits its
    # findings and leaves, summed out; a present finding joins (by its leak) before the first
    # step or emission that activates it and leaves, keeping its "on" states, after the last.
    # Times: step d at (2d + 1)(k + 1), root i's emission before step b at 2b(k + 1) + i.
    k1 = k + 1
    first_link = np.full(k, -1, np.int64)
    last_link = np.full(k, -1, np.int64)
    for d in range(n_dp):
        for i in range(k):
            if act[dp[d], m + i] > 0.0:
                if first_link[i] < 0:
                    first_link[i] = d
                last_link[i] = d
    first_t = np.full(m, -1, np.int64)
    last_t = np.full(m, -1, np.int64)
    for d in range(n_dp):
        for j in range(m):
            if act[dp[d], j] > 0.0:
                tt = (2 * d + 1) * k1
                if first_t[j] < 0 or tt < first_t[j]:
                    first_t[j] = tt
                last_t[j] = max(last_t[j], tt)
    for i in range(k):
        for j in range(m):
            if rf[roots[i], present[j]] > 0.0:
                tt = 2 * (last_link[i] + 1) * k1 + i
                if first_t[j] < 0 or tt < first_t[j]:
                    first_t[j] = tt
                last_t[j] = max(last_t[j], tt)
    for j in range(m):
        if first_t[j] < 0:  # nothing here causes it: on by its leak alone
            log_const += np.log(fleak[present[j]])
    n_max = 2 * m + 3 * k + 1
    op_kind = np.zeros(n_max, np.int64)
    op_pos = np.zeros(n_max, np.int64)
    op_val = np.zeros(n_max)
    op_idx = np.zeros(n_max, np.int64)
    op_start = np.zeros(n_dp + 2, np.int64)
    emit_p = np.zeros((max(k, 1), n_bits + 1))
    act_p = np.zeros((n_dp + 1, n_bits + 1))
    width = np.zeros(n_dp + 1, np.int64)
    layout = np.empty(n_bits + 1, np.int64)
    w = 0
    peak = 0
    n_ops = 0
    for b in range(n_dp + 1):
        op_start[b] = n_ops
        for j in range(m):  # findings whose last activation was step b - 1
            if b >= 1 and first_t[j] >= 0 and last_t[j] == (2 * b - 1) * k1:
                q = 0
                while layout[q] != j:
                    q += 1
                op_kind[n_ops] = _LEAVE
                op_pos[n_ops] = q
                n_ops += 1
                for r in range(q, w - 1):
                    layout[r] = layout[r + 1]
                w -= 1
        for i in range(k):
            if last_link[i] + 1 != b:
                continue
            ti = 2 * b * k1 + i
            for j in range(m):
                if first_t[j] == ti:
                    op_kind[n_ops] = _JOIN
                    op_val[n_ops] = fleak[present[j]]
                    n_ops += 1
                    layout[w] = j
                    w += 1
            if first_link[i] < 0:  # no condition links to it: it joins to emit
                op_kind[n_ops] = _JOIN
                op_val[n_ops] = rleak[roots[i]]
                n_ops += 1
                layout[w] = m + i
                w += 1
            peak = max(peak, w)
            q = 0
            while layout[q] != m + i:
                q += 1
            for r in range(w):
                if layout[r] < m:
                    emit_p[i, r] = rf[roots[i], present[layout[r]]]
            op_kind[n_ops] = _EMIT
            op_pos[n_ops] = q
            op_val[n_ops] = emit_w[i]
            op_idx[n_ops] = i
            n_ops += 1
            op_kind[n_ops] = _SUM
            op_pos[n_ops] = q
            op_idx[n_ops] = i
            n_ops += 1
            for r in range(q, w - 1):
                layout[r] = layout[r + 1]
            w -= 1
            for j in range(m):
                if first_t[j] >= 0 and last_t[j] == ti:
                    q = 0
                    while layout[q] != j:
                        q += 1
                    op_kind[n_ops] = _LEAVE
                    op_pos[n_ops] = q
                    n_ops += 1
                    for r in range(q, w - 1):
                        layout[r] = layout[r + 1]
                    w -= 1
        if b < n_dp:
            for i in range(k):
                if first_link[i] == b:
                    op_kind[n_ops] = _JOIN
                    op_val[n_ops] = rleak[roots[i]]
                    n_ops += 1
                    layout[w] = m + i
                    w += 1
            for j in range(m):
                if first_t[j] == (2 * b + 1) * k1:
                    op_kind[n_ops] = _JOIN
                    op_val[n_ops] = fleak[present[j]]
                    n_ops += 1
                    layout[w] = j
                    w += 1
            peak = max(peak, w)
            for r in range(w):
                act_p[b, r] = act[dp[b], layout[r]]
        width[b] = w
    op_start[n_dp + 1] = n_ops
    if peak > MAX_BITS:
        return 0.0, False
    size = 1 << peak

    weight = np.exp(log_w)
    on_w = np.empty(n)
    for c in range(n):
        on_w[c] = prior[c] * weight[c]
    for c in range(n):
        if not in_dp[c]:
            out_cond[c] = on_w[c] / (1.0 - prior[c] + on_w[c])

    # Forward pass. alphas[d] is the state before condition dp[d] (after the operations before
    # it), scaled by exp(-log_a[d]); ``kept`` holds each root's state before it was summed out.
    scratch = np.empty(size)
    alphas = np.empty((n_dp + 1, size))
    log_a = np.zeros(n_dp + 1)
    kept = np.empty((max(k, 1), size))
    kept_w = np.zeros(max(k, 1), np.int64)
    x = np.zeros(size)
    x[0] = 1.0
    w = 0
    log_x = 0.0
    for d in range(n_dp + 1):
        w, scale = _apply_ops(
            x,
            w,
            op_kind,
            op_pos,
            op_val,
            op_idx,
            emit_p,
            op_start[d],
            op_start[d + 1],
            True,
            kept,
            kept_w,
        )
        log_x += np.log(scale)
        for s in range(1 << w):
            alphas[d, s] = x[s]
        log_a[d] = log_x
        if d < n_dp:
            c = dp[d]
            log_x += np.log(_step(x, 1 << w, act_p[d], w, on_w[c], 1.0 - prior[c], scratch))
    dp_log = log_x  # everything has left: the state is the single entry 1

    # Backward pass: betas[d] is what the evidence asks of the state before condition dp[d],
    # scaled by exp(-log_b[d]), so that <alphas[d], betas[d]> is P(evidence) for every d.
    betas = np.empty((n_dp + 1, size))
    log_b = np.zeros(n_dp + 1)
    beta = np.zeros(size)
    beta[0] = 1.0
    betas[n_dp, 0] = 1.0
    w = 0
    for d in range(n_dp - 1, -1, -1):
        w = _unapply_ops(
            beta,
            w,
            op_kind,
            op_pos,
            op_val,
            op_idx,
            emit_p,
            op_start[d + 1],
            op_start[d + 2],
            kept,
            roots,
            out_root,
        )
        c = dp[d]
        p_c, top = _back_step(
            alphas[d], beta, 1 << w, act_p[d], w, on_w[c], 1.0 - prior[c], scratch
        )
        out_cond[c] = p_c
        for s in range(1 << w):
            betas[d, s] = beta[s]
        log_b[d] = log_b[d + 1] + np.log(top)
    _unapply_ops(
        beta,
        w,
        op_kind,
        op_pos,
        op_val,
        op_idx,
        emit_p,
        op_start[0],
        op_start[1],
        kept,
        roots,
        out_root,
    )

    # Variants: 0 base, 1..5 source groups cleared, 6.. each root's links counted as absent.
    # A variant changes some conditions' weights: from the first of them to the last it reruns
    # the forward pass from the stored state, then meets the stored backward message.
    n_var = 1 + N_GROUPS + nr
    mult = np.ones((n_var, n))
    for c in range(n):
        mult[1 + group[c], c] = 0.0
        for r in range(nr):
            mult[1 + N_GROUPS + r, c] = 1.0 - cr[c, r]
    log_total = np.zeros(n_var)
    for c in range(n):  # closed form for conditions outside the DP
        if not in_dp[c]:
            base = np.log1p(prior[c] * (weight[c] - 1.0))
            for v in range(n_var):
                log_total[v] += base
            log_total[1 + group[c]] += np.log1p(-prior[c]) - base
            for r in range(nr):
                if cr[c, r] > 0.0:
                    changed = np.log1p(prior[c] * (weight[c] * mult[1 + N_GROUPS + r, c] - 1.0))
                    log_total[1 + N_GROUPS + r] += changed - base
    y = np.empty(size)
    for v in range(n_var):
        if v > N_GROUPS and involved[v - 1 - N_GROUPS]:
            continue  # an involved root's posterior comes from the state itself
        first = n_dp
        last = -1
        for d in range(n_dp):
            if mult[v, dp[d]] != 1.0:
                first = min(first, d)
                last = d
        if last < 0:
            log_total[v] += dp_log
            continue
        w = width[first]
        for s in range(1 << w):
            y[s] = alphas[first, s]
        log_y = log_a[first]
        for d in range(first, last + 1):
            c = dp[d]
            on = on_w[c] * mult[v, c]
            log_y += np.log(_step(y, 1 << w, act_p[d], w, on, 1.0 - prior[c], scratch))
            w, scale = _apply_ops(
                y,
                w,
                op_kind,
                op_pos,
                op_val,
                op_idx,
                emit_p,
                op_start[d + 1],
                op_start[d + 2],
                False,
                kept,
                kept_w,
            )
            log_y += np.log(scale)
        inner = 0.0
        for s in range(1 << w):
            inner += y[s] * betas[last + 1, s]
        log_total[v] += log_y + log_b[last + 1] + np.log(inner)

    for g in range(N_GROUPS):
        out_src[g] = -np.expm1(log_total[1 + g] - log_total[0])
    for r in range(nr):
        if not involved[r]:
            out_root[r] = -np.expm1(
                np.log1p(-rleak[r]) + log_total[1 + N_GROUPS + r] - log_total[0]
            )
    return log_total[0] + log_const, True


def _batch_parallel_py(
    prior: Any,
    cf: Any,
    cr: Any,
    rf: Any,
    fleak: Any,
    rleak: Any,
    group: Any,
    c_links: tuple[Any, Any, Any],
    r_links: tuple[Any, Any, Any],
    ev: Any,
    out_cond: Any,
    out_root: Any,
    out_src: Any,
    out_log: Any,
    out_ok: Any,
) -> None:
    for i in prange(ev.shape[0]):
        log_z, ok = _case_jit(
            prior[i],
            cf,
            cr,
            rf,
            fleak,
            rleak,
            group,
            ev[i],
            out_cond[i],
            out_root[i],
            out_src[i],
            c_links,
            r_links,
        )
        out_log[i] = log_z
        out_ok[i] = ok


def _batch_serial_py(
    prior: Any,
    cf: Any,
    cr: Any,
    rf: Any,
    fleak: Any,
    rleak: Any,
    group: Any,
    c_links: tuple[Any, Any, Any],
    r_links: tuple[Any, Any, Any],
    ev: Any,
    out_cond: Any,
    out_root: Any,
    out_src: Any,
    out_log: Any,
    out_ok: Any,
) -> None:
    for i in range(ev.shape[0]):
        log_z, ok = _case_jit(
            prior[i],
            cf,
            cr,
            rf,
            fleak,
            rleak,
            group,
            ev[i],
            out_cond[i],
            out_root[i],
            out_src[i],
            c_links,
            r_links,
        )
        out_log[i] = log_z
        out_ok[i] = ok


# Compiled once per machine and cached beside this file; the functions above call each other
# through these module-level names, which is how the compiler links them.
_activate = njit(cache=True, nogil=True)(_activate_py)
_emit = njit(cache=True, nogil=True)(_emit_py)
_moved = njit(cache=True, nogil=True)(_moved_py)
_step = njit(cache=True, nogil=True)(_step_py)
_back_step = njit(cache=True, nogil=True)(_back_step_py)
_close = njit(cache=True, nogil=True)(_close_py)
_unclose = njit(cache=True, nogil=True)(_unclose_py)
_sum_out = njit(cache=True, nogil=True)(_sum_out_py)
_lift = njit(cache=True, nogil=True)(_lift_py)
_open = njit(cache=True, nogil=True)(_open_py)
_unopen = njit(cache=True, nogil=True)(_unopen_py)
_apply_ops = njit(cache=True, nogil=True)(_apply_ops_py)
_unapply_ops = njit(cache=True, nogil=True)(_unapply_ops_py)
_case_jit = njit(cache=True, nogil=True)(_case_py)
# Two functions, not one compiled twice: the on-disk cache keys entries by function, so one
# function compiled with and without ``parallel`` would serve whichever was cached first to both.
parallel_kernel = cast(
    Callable[..., None], njit(cache=True, parallel=True, nogil=True)(_batch_parallel_py)
)
serial_kernel = cast(Callable[..., None], njit(cache=True, nogil=True)(_batch_serial_py))
# Below this many cases, starting worker threads costs more than it saves (and competes with any
# other threaded library in the process). A result's few dozen leave-one-out rows stay on one
# thread even when each is heavy: in a server, worker threads for them lengthened the slowest
# results (each process loading the threaded kernel on its first such result, and launches
# queueing behind each other with several people answering at once).
PARALLEL_FROM = 256


def runs_parallel(rows: int) -> bool:
    """Whether a batch of ``rows`` runs on worker threads (never in a process that gave them
    up, ``threads.single_threaded``)."""
    return rows >= PARALLEL_FROM and threads.allowed()


def batch_kernel(*args: Any) -> None:
    """Run the kernel over every case (row of the evidence, the 10th argument), on worker
    threads from ``PARALLEL_FROM`` rows when the process allows them, one launch at a time."""
    if not runs_parallel(args[9].shape[0]):
        serial_kernel(*args)
        return
    with threads.PARALLEL_LAUNCH:
        parallel_kernel(*args)
