"""Compiled exact inference for one case at a time (numba), used for single cases and batches.

The same mathematics as :mod:`kneesource.inference.subset_dp`, written as loops for a compiler:
absent findings fold into the conditions' and roots' weights; present findings and the roots the
evidence involves become bits of a full state vector of 2^K entries; conditions outside the pruned
network are updated in closed form; a forward-backward pass gives every posterior as a local
ratio of sums of non-negative terms (no cancellation). The state is renormalised after every
condition and its log scale kept.

Query variants (a source group's conditions cleared; a root's links counted as absent) run as
extra forward passes. Cases whose state would exceed ``MAX_BITS`` bits are not computed here
(``ok`` is False) and go to the frontier algorithm in ``subset_dp``, whose cost follows the widest
frontier instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit, prange

MAX_BITS = 16
N_GROUPS = 5


def _activate_py(y: Any, size: int, bit: int, p: float, transpose: bool, within: int) -> None:
    """In place, on the states that contain every bit of ``within``: mass at S (bit off) moves to
    S with the bit on with probability p (or the transpose, for backward vectors)."""
    mask = 1 << bit
    for s in range(size):
        if s & mask == 0 and s & within == within:
            if transpose:
                y[s] += p * (y[s | mask] - y[s])
            else:
                moved = y[s] * p
                y[s | mask] += moved
                y[s] -= moved


def _emit_py(
    y: Any, size: int, root_bit: int, m: int, p_emit: Any, weight: float, transpose: bool
) -> None:
    """On the states where the root bit is set: the root's weight, then its activations."""
    rmask = 1 << root_bit
    for s in range(size):
        if s & rmask:
            y[s] *= weight
    for j in range(m):
        if p_emit[j] > 0.0:
            _activate(y, size, j, p_emit[j], transpose, rmask)


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
) -> tuple[float, bool]:
    n, nf = cf.shape
    nr = rleak.shape[0]
    log_w = np.zeros(n)
    log_u = np.zeros(nr)
    log_const = 0.0
    present = np.empty(nf, np.int64)
    m = 0
    for f in range(nf):
        if ev[f] == 1:
            present[m] = f
            m += 1
        elif ev[f] == 0:
            log_const += np.log1p(-fleak[f])
            for c in range(n):
                if cf[c, f] > 0.0:
                    log_w[c] += np.log1p(-cf[c, f])
            for r in range(nr):
                if rf[r, f] > 0.0:
                    log_u[r] += np.log1p(-rf[r, f])
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
    if n_bits > MAX_BITS:
        return 0.0, False
    size = 1 << n_bits

    # Activation of each bit by each condition; which conditions enter the DP.
    act = np.zeros((n, n_bits))
    in_dp = np.zeros(n, np.bool_)
    for c in range(n):
        for j in range(m):
            act[c, j] = cf[c, present[j]]
        for i in range(k):
            act[c, m + i] = cr[c, roots[i]]
        for b in range(n_bits):
            if act[c, b] > 0.0:
                in_dp[c] = True
    dp = np.empty(n, np.int64)
    n_dp = 0
    for c in range(n):
        if in_dp[c]:
            dp[n_dp] = c
            n_dp += 1

    # Variants: 0 base, 1..5 source groups cleared, 6.. each root's links counted as absent.
    n_var = 1 + N_GROUPS + nr
    mult = np.ones((n_var, n))
    for c in range(n):
        mult[1 + group[c], c] = 0.0
        for r in range(nr):
            mult[1 + N_GROUPS + r, c] = 1.0 - cr[c, r]
    log_total = np.zeros(n_var)
    weight = np.exp(log_w)
    alphas = np.empty((n_dp + 1, size))
    full = (1 << m) - 1
    dp_log_base = 0.0
    for v in range(n_var):
        if v > N_GROUPS and involved[v - 1 - N_GROUPS]:
            continue  # an involved root's posterior comes from the state itself
        # Closed form for conditions outside the DP.
        changes_dp = v == 0
        for c in range(n):
            if not in_dp[c]:
                log_total[v] += np.log1p(prior[c] * (weight[c] * mult[v, c] - 1.0))
            elif mult[v, c] != 1.0:
                changes_dp = True
        if not changes_dp:  # the variant only changes conditions outside the DP
            log_total[v] += dp_log_base
            continue
        x = np.zeros(size)
        x[0] = 1.0
        for b in range(n_bits):
            leak = fleak[present[b]] if b < m else rleak[roots[b - m]]
            _activate(x, size, b, leak, False, 0)
        dp_log = 0.0
        for t in range(n_dp):
            c = dp[t]
            if v == 0:
                alphas[t] = x
            y = x.copy()
            for b in range(n_bits):
                if act[c, b] > 0.0:
                    _activate(y, size, b, act[c, b], False, 0)
            on = prior[c] * weight[c] * mult[v, c]
            off = 1.0 - prior[c]
            total = 0.0
            for s in range(size):
                x[s] = off * x[s] + on * y[s]
                total += x[s]
            for s in range(size):
                x[s] /= total
            dp_log += np.log(total)
        for i in range(k):
            _emit(x, size, m + i, m, rf[roots[i], present[:m]], np.exp(log_u[roots[i]]), False)
        mass = 0.0
        for s in range(size):
            if s & full == full:
                mass += x[s]
        dp_log += np.log(mass)
        log_total[v] += dp_log
        if v == 0:
            dp_log_base = dp_log
            for i in range(k):
                on_mass = 0.0
                for s in range(size):
                    if s & full == full and s & (1 << (m + i)):
                        on_mass += x[s]
                out_root[roots[i]] = on_mass / mass

    # Backward pass for the base row: every condition in the DP.
    beta = np.zeros(size)
    for s in range(size):
        if s & full == full:
            beta[s] = 1.0
    for i in range(k):
        _emit(beta, size, m + i, m, rf[roots[i], present[:m]], np.exp(log_u[roots[i]]), True)
    for t in range(n_dp - 1, -1, -1):
        c = dp[t]
        alpha = alphas[t]
        moved = alpha.copy()
        for b in range(n_bits):
            if act[c, b] > 0.0:
                _activate(moved, size, b, act[c, b], False, 0)
        on = prior[c] * weight[c]
        off = 1.0 - prior[c]
        stay = 0.0
        go = 0.0
        for s in range(size):
            stay += beta[s] * alpha[s]
            go += beta[s] * moved[s]
        out_cond[c] = on * go / (off * stay + on * go)
        moved_t = beta.copy()
        for b in range(n_bits):
            if act[c, b] > 0.0:
                _activate(moved_t, size, b, act[c, b], True, 0)
        top = 0.0
        for s in range(size):
            beta[s] = off * beta[s] + on * moved_t[s]
            if beta[s] > top:
                top = beta[s]
        for s in range(size):
            beta[s] /= top
    for c in range(n):
        if not in_dp[c]:
            pw = prior[c] * weight[c]
            out_cond[c] = pw / (1.0 - prior[c] + pw)
    for g in range(N_GROUPS):
        out_src[g] = -np.expm1(log_total[1 + g] - log_total[0])
    for r in range(nr):
        if not involved[r]:
            out_root[r] = -np.expm1(
                np.log1p(-rleak[r]) + log_total[1 + N_GROUPS + r] - log_total[0]
            )
    return log_total[0] + log_const, True


def _batch_py(
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
    out_log: Any,
    out_ok: Any,
) -> None:
    for i in prange(ev.shape[0]):
        log_z, ok = _case_jit(
            prior[i], cf, cr, rf, fleak, rleak, group, ev[i], out_cond[i], out_root[i], out_src[i]
        )
        out_log[i] = log_z
        out_ok[i] = ok


# Compiled once per machine and cached beside this file; the functions above call each other
# through these module-level names, which is how the compiler links them.
_activate = njit(cache=True)(_activate_py)
_emit = njit(cache=True)(_emit_py)
_case_jit = njit(cache=True)(_case_py)
# One loop, compiled twice: without ``parallel`` the compiler runs ``prange`` as ``range``.
parallel_kernel = cast(Callable[..., None], njit(cache=True, parallel=True)(_batch_py))
serial_kernel = cast(Callable[..., None], njit(cache=True)(_batch_py))
# Below this many cases, starting worker threads costs more than it saves (and competes with any
# other threaded library in the process).
PARALLEL_FROM = 256


def batch_kernel(*args: Any) -> None:
    """Run the kernel over every case (row of the evidence, the 8th argument)."""
    evidence = args[7]
    (parallel_kernel if evidence.shape[0] >= PARALLEL_FROM else serial_kernel)(*args)
