"""Compiled exact inference for one case at a time (numba), used for single cases and batches.

Exact posteriors by a state over the subsets of present findings, written as loops for a compiler:
absent findings fold into the conditions' and roots' weights; present findings and the roots the
evidence involves become bits of state vectors; conditions outside the pruned network are updated
in closed form; a forward-backward pass gives every posterior as a local ratio of sums of
non-negative terms (no cancellation). The state is renormalised after every condition and its
log scale kept.

Only the conditions that reach an involved root need the root bits. They run first, on a state
over the roots and the present findings that they or the roots cause (the *touched* findings,
placed first); then the roots emit their findings and are summed out, the other present findings
join by their leaks (activations commute, so when a bit is activated does not matter), and the
other conditions run on the present findings' bits alone. The first part's state is
2^(touched + roots) entries, the second's 2^(present): for the result of an interview with a
dozen present findings, of which a back condition touches a few, 2^8-2^12 entries instead of the
2^16 a single state of all of them would need.

Query variants (a source group's conditions cleared; a root's links counted as absent) change a
few conditions' weights: each reruns the forward pass over just those conditions, starting from
the stored forward state and finishing against the stored backward message. Cases whose first or
second state would exceed ``MAX_BITS`` bits are not computed here (``ok`` is False) and go to
bucket elimination in ``junction``, whose cost follows the treewidth of the evidence instead.
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


def _to_findings_py(
    x: Any, size: int, t: int, m: int, emit: Any, emit_w: Any, leak: Any, out: Any
) -> float:
    """From the first part's state to the second's: the roots emit their findings (in place on
    ``x``, whose bits are the ``t`` present findings the first part touches, then the roots),
    the root bits are summed out into ``out``, renormalised, and the other present findings
    (bits ``t`` to ``m``) are activated by their leaks; returns the scale removed."""
    k = emit.shape[0]
    for i in range(k):
        _emit(x, size, t + i, t, emit[i], emit_w[i], False)
    touched = 1 << t
    small = 1 << m
    for s in range(small):
        out[s] = 0.0
    for s in range(size):
        out[s & (touched - 1)] += x[s]
    total = 0.0
    for s in range(touched):
        total += out[s]
    for s in range(touched):
        out[s] /= total
    for b in range(t, m):
        _activate(out, small, b, leak[b], False, 0)
    return total


def _from_findings_py(beta: Any, size: int, t: int, m: int, leak: Any, out: Any) -> None:
    """The transpose of ``_to_findings`` up to the emission: the second part's message ``beta``
    (on the present findings) taken back through the leaks of the findings the first part does
    not touch, and spread over the first part's states (``out``, before the roots emit)."""
    small = 1 << m
    touched = 1 << t
    for s in range(small):
        out[s] = beta[s]
    for b in range(t, m):
        _activate(out, small, b, leak[b], True, 0)
    for s in range(size - 1, -1, -1):
        out[s] = out[s & (touched - 1)]


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
    # The present findings the first part touches (a condition linked to an involved root
    # activates them, or an involved root emits them) come first, as bits 0 to t - 1: the first
    # part's state holds those and the roots, and the others join by their leaks once the roots
    # are summed out (activations commute), so the first part works on 2^(t + k) states.
    touch = np.zeros(m, np.bool_)
    for c in range(n):
        first_part = False
        for i in range(k):
            if cr[c, roots[i]] > 0.0:
                first_part = True
        if first_part:
            for j in range(m):
                if cf[c, present[j]] > 0.0:
                    touch[j] = True
    for i in range(k):
        for j in range(m):
            if rf[roots[i], present[j]] > 0.0:
                touch[j] = True
    ordered = np.empty(m, np.int64)
    t = 0
    for j in range(m):
        if touch[j]:
            ordered[t] = present[j]
            t += 1
    u = t
    for j in range(m):
        if not touch[j]:
            ordered[u] = present[j]
            u += 1
    for j in range(m):
        present[j] = ordered[j]
    leak = np.empty(m)
    for j in range(m):
        leak[j] = fleak[present[j]]
    bits_f = t + k  # the first part's state: touched present findings, then involved roots
    if max(bits_f, m) > MAX_BITS:
        return 0.0, False
    size_f = 1 << bits_f
    small = 1 << m  # the state once the roots are summed out: present findings only
    size = max(size_f, small)
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
    act = np.zeros((n, n_bits))  # present findings, then involved roots
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
    act_f = np.zeros((n, bits_f))  # the first part's bits: touched findings, then roots
    for c in range(n):
        for j in range(t):
            act_f[c, j] = act[c, j]
        for i in range(k):
            act_f[c, t + i] = act[c, m + i]
    weight = np.exp(log_w)
    on_w = np.empty(n)
    for c in range(n):
        on_w[c] = prior[c] * weight[c]

    # Forward pass. alphas[t] is the state before condition dp[t] (full for t < n_first, small
    # after), scaled by exp(-log_a[t]); ``emitted`` is the full state once the roots emitted.
    scratch = np.empty(size)
    alphas = np.empty((n_dp + 1, size))
    log_a = np.zeros(n_dp + 1)
    x = np.zeros(size_f)
    x[0] = 1.0
    for b in range(bits_f):
        _activate(x, size_f, b, leak[b] if b < t else rleak[roots[b - t]], False, 0)
    log_x = 0.0
    for d in range(n_first):
        c = dp[d]
        alphas[d, :size_f] = x
        log_a[d] = log_x
        log_x += np.log(_step(x, size_f, act_f[c], bits_f, on_w[c], 1.0 - prior[c], scratch))
    xs = np.empty(small)
    log_x += np.log(_to_findings(x, size_f, t, m, emit, emit_w, leak, xs))
    emitted = x
    for d in range(n_first, n_dp):
        c = dp[d]
        alphas[d, :small] = xs
        log_a[d] = log_x
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
    for d in range(n_dp - 1, n_first - 1, -1):
        c = dp[d]
        p_c, top = _back_step(alphas[d], beta, small, act[c], m, on_w[c], 1.0 - prior[c], scratch)
        out_cond[c] = p_c
        betas[d, :small] = beta[:small]
        log_b[d] = log_b[d + 1] + np.log(top)
    # Back through the transition: the first part's message once the roots have emitted.
    beta_roots = np.empty(size)
    _from_findings(beta, size_f, t, m, leak, beta_roots)
    both = 0.0
    for s in range(size_f):
        both += emitted[s] * beta_roots[s]
    for i in range(k):
        on_mass = 0.0
        for s in range(size_f):
            if s & (1 << (t + i)):
                on_mass += emitted[s] * beta_roots[s]
        out_root[roots[i]] = on_mass / both
    for i in range(k):
        _emit(beta_roots, size_f, t + i, t, emit[i], emit_w[i], True)
    beta[:size_f] = beta_roots[:size_f]
    for d in range(n_first - 1, -1, -1):
        c = dp[d]
        p_c, top = _back_step(
            alphas[d], beta, size_f, act_f[c], bits_f, on_w[c], 1.0 - prior[c], scratch
        )
        out_cond[c] = p_c
        betas[d, :size_f] = beta[:size_f]
        log_b[d] = log_b[d + 1] + np.log(top)
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
        for d in range(n_dp):
            if mult[v, dp[d]] != 1.0:
                first = min(first, d)
                last = d
        if last < 0:
            log_total[v] += dp_log
            continue
        on_first = first < n_first  # still on the first part's state
        width = size_f if on_first else small
        for s in range(width):
            y[s] = alphas[first, s]
        log_y = log_a[first]
        for d in range(first, last + 1):
            if d == n_first and on_first:
                log_y += np.log(_to_findings(y, size_f, t, m, emit, emit_w, leak, xs))
                y[:small] = xs
                width = small
                on_first = False
            c = dp[d]
            on = on_w[c] * mult[v, c]
            if on_first:
                log_y += np.log(_step(y, size_f, act_f[c], bits_f, on, 1.0 - prior[c], scratch))
            else:
                log_y += np.log(_step(y, small, act[c], m, on, 1.0 - prior[c], scratch))
        message = beta_roots if last + 1 == n_first and on_first else betas[last + 1]
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
_from_findings = njit(cache=True, nogil=True)(_from_findings_py)
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
