"""Compiled exact inference for one case at a time (numba), used for single cases and batches.

Exact posteriors by a state over the subsets of present findings, written as loops for a compiler:
absent findings fold into the conditions' and roots' weights; present findings and the roots the
evidence involves become bits of a full state vector of 2^K entries; conditions outside the pruned
network are updated in closed form; a forward-backward pass gives every posterior as a local
ratio of sums of non-negative terms (no cancellation). The state is renormalised after every
condition and its log scale kept.

Only the conditions that reach an involved root need the root bits. They run first; then the
roots emit their findings and are summed out, and the other conditions run on the present
findings' bits alone, 2^roots times fewer states.

Query variants (a source group's conditions cleared; a root's links counted as absent) change a
few conditions' weights: each reruns the forward pass over just those conditions, starting from
the stored forward state and finishing against the stored backward message. Cases whose state
would exceed ``MAX_BITS`` bits are not computed here (``ok`` is False) and go to bucket
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


def _to_findings_py(x: Any, size: int, m: int, emit: Any, emit_w: Any, out: Any) -> float:
    """The roots emit their findings (in place on ``x``), then the root bits are summed out into
    ``out`` (the present findings' bits only), renormalised; returns the scale removed."""
    for i in range(emit.shape[0]):
        _emit(x, size, m + i, m, emit[i], emit_w[i], False)
    small = 1 << m
    for s in range(small):
        out[s] = 0.0
    for s in range(size):
        out[s & (small - 1)] += x[s]
    total = 0.0
    for s in range(small):
        total += out[s]
    for s in range(small):
        out[s] /= total
    return total


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
    size = 1 << n_bits  # the full state: present findings, then involved roots
    small = 1 << m  # the state once the roots are summed out: present findings only
    full = small - 1
    emit = np.empty((k, m))
    emit_w = np.empty(k)
    for i in range(k):
        for j in range(m):
            emit[i, j] = rf[roots[i], present[j]]
        emit_w[i] = np.exp(log_u[roots[i]])

    # Activation of each bit by each condition; which conditions enter the DP, and in what order.
    # First come the conditions that activate an involved root: they need the full state. Then
    # the roots emit their findings and are summed out, and every other condition works on the
    # small state. Within each part conditions go by source group (groups with a condition in
    # the first part first) and by the roots they link to, so a variant below (a group cleared,
    # a root's links removed) changes one short run of conditions.
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
    key = np.full(n, -1, np.int64)
    n_dp = 0
    n_first = 0
    for c in range(n):
        if touches[c] > 0:
            links = 0
            for r in range(nr):
                if cr[c, r] > 0.0:
                    links |= 1 << r
            part = 0 if touches[c] == 2 else 2 - int(in_first[group[c]])
            key[c] = (((part << 3) | group[c]) << nr) | links
            n_dp += 1
            if touches[c] == 2:
                n_first += 1
    in_dp = key >= 0
    dp = np.argsort(key, kind="mergesort")[n - n_dp :]
    weight = np.exp(log_w)
    on_w = np.empty(n)
    for c in range(n):
        on_w[c] = prior[c] * weight[c]

    # Forward pass. alphas[t] is the state before condition dp[t] (full for t < n_first, small
    # after), scaled by exp(-log_a[t]); ``emitted`` is the full state once the roots emitted.
    scratch = np.empty(size)
    alphas = np.empty((n_dp + 1, size))
    log_a = np.zeros(n_dp + 1)
    x = np.zeros(size)
    x[0] = 1.0
    for b in range(n_bits):
        leak = fleak[present[b]] if b < m else rleak[roots[b - m]]
        _activate(x, size, b, leak, False, 0)
    log_x = 0.0
    for t in range(n_first):
        c = dp[t]
        alphas[t] = x
        log_a[t] = log_x
        log_x += np.log(_step(x, size, act[c], n_bits, on_w[c], 1.0 - prior[c], scratch))
    xs = np.empty(small)
    log_x += np.log(_to_findings(x, size, m, emit, emit_w, xs))
    emitted = x
    for t in range(n_first, n_dp):
        c = dp[t]
        alphas[t, :small] = xs
        log_a[t] = log_x
        log_x += np.log(_step(xs, small, act[c], m, on_w[c], 1.0 - prior[c], scratch))
    alphas[n_dp, :small] = xs
    log_a[n_dp] = log_x
    dp_log = log_x + np.log(xs[full])  # every present finding must be on

    # Backward pass: betas[t] is what the evidence asks of the state before condition dp[t],
    # scaled by exp(-log_b[t]), so that <alphas[t], betas[t]> is P(evidence) for every t.
    betas = np.empty((n_dp + 1, size))
    log_b = np.zeros(n_dp + 1)
    beta = np.zeros(size)
    beta[full] = 1.0
    betas[n_dp, :small] = beta[:small]
    for t in range(n_dp - 1, n_first - 1, -1):
        c = dp[t]
        p_c, top = _back_step(alphas[t], beta, small, act[c], m, on_w[c], 1.0 - prior[c], scratch)
        out_cond[c] = p_c
        betas[t, :small] = beta[:small]
        log_b[t] = log_b[t + 1] + np.log(top)
    # Through the roots' emission: the full-state message at the end of the first part.
    beta_roots = np.empty(size)
    for s in range(size):
        beta_roots[s] = beta[s & full]
    both = 0.0
    for s in range(size):
        both += emitted[s] * beta_roots[s]
    for i in range(k):
        on_mass = 0.0
        for s in range(size):
            if s & (1 << (m + i)):
                on_mass += emitted[s] * beta_roots[s]
        out_root[roots[i]] = on_mass / both
    for i in range(k):
        _emit(beta_roots, size, m + i, m, emit[i], emit_w[i], True)
    beta[:] = beta_roots
    for t in range(n_first - 1, -1, -1):
        c = dp[t]
        p_c, top = _back_step(
            alphas[t], beta, size, act[c], n_bits, on_w[c], 1.0 - prior[c], scratch
        )
        out_cond[c] = p_c
        betas[t] = beta
        log_b[t] = log_b[t + 1] + np.log(top)
    for c in range(n):
        if not in_dp[c]:
            out_cond[c] = on_w[c] / (1.0 - prior[c] + on_w[c])

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
    y = np.empty(size)
    for v in range(n_var):
        if v > N_GROUPS and involved[v - 1 - N_GROUPS]:
            continue  # an involved root's posterior comes from the state itself
        for c in range(n):  # closed form for conditions outside the DP
            if not in_dp[c]:
                log_total[v] += np.log1p(prior[c] * (weight[c] * mult[v, c] - 1.0))
        first = n_dp
        last = -1
        for t in range(n_dp):
            if mult[v, dp[t]] != 1.0:
                first = min(first, t)
                last = t
        if last < 0:
            log_total[v] += dp_log
            continue
        width = size if first < n_first else small
        for s in range(width):
            y[s] = alphas[first, s]
        log_y = log_a[first]
        for t in range(first, last + 1):
            if t == n_first and width == size:
                log_y += np.log(_to_findings(y, size, m, emit, emit_w, xs))
                y[:small] = xs
                width = small
            c = dp[t]
            bits = n_bits if width == size else m
            on = on_w[c] * mult[v, c]
            log_y += np.log(_step(y, width, act[c], bits, on, 1.0 - prior[c], scratch))
        message = beta_roots if last + 1 == n_first and width == size else betas[last + 1]
        inner = 0.0
        for s in range(width):
            inner += y[s] * message[s]
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


def _batch_serial_py(
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
    for i in range(ev.shape[0]):
        log_z, ok = _case_jit(
            prior[i], cf, cr, rf, fleak, rleak, group, ev[i], out_cond[i], out_root[i], out_src[i]
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
_to_findings = njit(cache=True, nogil=True)(_to_findings_py)
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
    """Run the kernel over every case (row of the evidence, the 8th argument), on worker
    threads from ``PARALLEL_FROM`` rows when the process allows them, one launch at a time."""
    if not runs_parallel(args[7].shape[0]):
        serial_kernel(*args)
        return
    with threads.PARALLEL_LAUNCH:
        parallel_kernel(*args)
