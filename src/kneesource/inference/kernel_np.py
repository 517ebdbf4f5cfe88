"""The compiled kernel's algorithm (``kernel``) in plain numpy, for a few cases at a time.

The same forward-backward pass over the subsets of present findings, the same order of
conditions and the same query variants, with each loop over states written as an operation on a
reshaped view of the state vector. Per case it is slower than the compiled kernel, but it needs
no compiler: loading the compiled kernel costs most of a second in a new process (importing the
compiler and linking the cached machine code), more than a single assessment needs in total.
``exact.posterior_rows`` uses it for small batches until the compiled kernel is loaded; the two
agree to rounding (``tests/inference/test_kernel_numpy.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# The largest state the kernels hold: 2^MAX_BITS entries (the present findings; in the first
# part, the present findings it touches and the involved roots).
MAX_BITS = 16
N_GROUPS = 5


def _pairs(y: Any, bit: int, within: int) -> tuple[Any, Any]:
    """Views of the states with ``bit`` off and on (among those with bit ``within`` set, when
    ``within`` >= 0; it must be above ``bit``)."""
    if within >= 0:
        pairs = y.reshape(-1, 2, 1 << (within - bit - 1), 2, 1 << bit)[:, 1]
    else:
        pairs = y.reshape(-1, 2, 1 << bit)
    return pairs[..., 0, :], pairs[..., 1, :]


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


def _to_findings(x: Any, t: int, m: int, emit: Any, emit_w: Any, leak: Any) -> tuple[Any, float]:
    """The roots emit their findings (in place on ``x``, whose bits are the ``t`` present
    findings the first part touches, then the roots) and are summed out; the other present
    findings join by their leaks: the state over the present findings' bits, renormalised, and
    the scale removed."""
    for i in range(emit.shape[0]):
        _emit(x, t + i, emit[i], float(emit_w[i]), False)
    touched = x.reshape(-1, 1 << t).sum(axis=0)
    total = float(touched.sum())
    out = np.zeros(1 << m)
    out[: 1 << t] = touched / total
    for b in range(t, m):
        _activate(out, b, float(leak[b]), False)
    return out, total


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
    present = np.flatnonzero(ev == 1)
    m = len(present)
    log_const = float(np.log1p(-fleak[absent]).sum())
    log_w = np.log1p(-cf[:, absent]).sum(axis=1)
    log_u = np.log1p(-rf[:, absent]).sum(axis=1)
    involved = ((rf > 0.0) & (ev >= 0)).any(axis=1)
    roots = np.flatnonzero(involved)
    k = len(roots)
    # The present findings the first part touches come first (see ``kernel._case_py``).
    first_part = (cr[:, roots] > 0.0).any(axis=1)
    touch = (cf[np.ix_(first_part, present)] > 0.0).any(axis=0)
    touch |= (rf[np.ix_(roots, present)] > 0.0).any(axis=0)
    present = np.concatenate([present[touch], present[~touch]])
    t = int(touch.sum())
    if max(t + k, m) > MAX_BITS:
        return 0.0, False
    size_f = 1 << (t + k)
    small = 1 << m
    full = small - 1
    leak = fleak[present]
    emit = rf[np.ix_(roots, present[:t])]
    emit_w = np.exp(log_u[roots])

    act = np.concatenate([cf[:, present], cr[:, roots]], axis=1)
    act_f = np.concatenate([cf[:, present[:t]], cr[:, roots]], axis=1)
    touches = np.where(
        (cr[:, roots] > 0.0).any(axis=1), 2, np.where((cf[:, present] > 0.0).any(axis=1), 1, 0)
    )
    in_first = np.zeros(N_GROUPS, np.bool_)
    in_first[group[touches == 2]] = True
    links = ((cr > 0.0) * (1 << np.arange(nr))).sum(axis=1)
    part = np.where(touches == 2, 0, 2 - in_first[group].astype(np.int64))
    key = np.where(touches > 0, (((part << 3) | group) << nr) | links, -1)
    n_dp = int((touches > 0).sum())
    n_first = int((touches == 2).sum())
    in_dp = key >= 0
    dp = np.argsort(key, kind="mergesort")[n - n_dp :]
    weight = np.exp(log_w)
    on_w = prior * weight
    off_w = 1.0 - prior

    # Forward pass, as in the compiled kernel: alphas[t] is the state before condition dp[t].
    alphas: list[Any] = []
    log_a = np.zeros(n_dp + 1)
    x = np.zeros(size_f)
    x[0] = 1.0
    for b in range(t + k):
        _activate(x, b, float(leak[b] if b < t else rleak[roots[b - t]]), False)
    log_x = 0.0
    for d in range(n_first):
        c = dp[d]
        alphas.append(x.copy())
        log_a[d] = log_x
        log_x += np.log(_step(x, act_f[c], float(on_w[c]), float(off_w[c])))
    emitted = x
    xs, scale = _to_findings(x, t, m, emit, emit_w, leak)
    log_x += np.log(scale)
    for d in range(n_first, n_dp):
        c = dp[d]
        alphas.append(xs.copy())
        log_a[d] = log_x
        log_x += np.log(_step(xs, act[c, :m], float(on_w[c]), float(off_w[c])))
    alphas.append(xs.copy())
    log_a[n_dp] = log_x
    dp_log = log_x + np.log(xs[full])

    # Backward pass: betas[t] is what the evidence asks of the state before condition dp[t].
    betas: list[Any] = [None] * (n_dp + 1)
    log_b = np.zeros(n_dp + 1)
    beta = np.zeros(small)
    beta[full] = 1.0
    betas[n_dp] = beta.copy()
    for d in range(n_dp - 1, n_first - 1, -1):
        c = dp[d]
        p_c, top = _back_step(alphas[d], beta, act[c, :m], float(on_w[c]), float(off_w[c]))
        out_cond[c] = p_c
        betas[d] = beta.copy()
        log_b[d] = log_b[d + 1] + np.log(top)
    # Back through the transition: the untouched findings' leaks, then spread over the roots.
    back = beta.copy()
    for b in range(t, m):
        _activate(back, b, float(leak[b]), True)
    beta_roots = np.tile(back[: 1 << t], size_f >> t)
    both = float(emitted @ beta_roots)
    joint = (emitted * beta_roots).reshape(-1, 1 << t).sum(axis=1)  # by the roots' bits
    for i in range(k):
        on_mass = float(joint.reshape(-1, 2, 1 << i)[:, 1, :].sum())
        out_root[roots[i]] = on_mass / both
    for i in range(k):
        _emit(beta_roots, t + i, emit[i], float(emit_w[i]), True)
    beta = beta_roots.copy()
    for d in range(n_first - 1, -1, -1):
        c = dp[d]
        p_c, top = _back_step(alphas[d], beta, act_f[c], float(on_w[c]), float(off_w[c]))
        out_cond[c] = p_c
        betas[d] = beta.copy()
        log_b[d] = log_b[d + 1] + np.log(top)
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
        on_first = first < n_first  # still on the first part's state
        for d in range(first, last + 1):
            if d == n_first and on_first:
                y, scale = _to_findings(y, t, m, emit, emit_w, leak)
                log_y += np.log(scale)
                on_first = False
            c = dp[d]
            bits = act_f[c] if on_first else act[c, :m]
            log_y += np.log(_step(y, bits, float(on_w[c] * mult[v, c]), float(off_w[c])))
        message = beta_roots if last + 1 == n_first and on_first else betas[last + 1]
        log_total[v] += log_y + log_b[last + 1] + np.log(float(y @ message))

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
    ev: Any,
    out_cond: Any,
    out_root: Any,
    out_src: Any,
    out_log: Any,
    out_ok: Any,
) -> None:
    """Every case (row of ``ev``), with the arguments of ``kernel.batch_kernel``."""
    for i in range(ev.shape[0]):
        out_log[i], out_ok[i] = case(
            prior[i], cf, cr, rf, fleak, rleak, group, ev[i], out_cond[i], out_root[i], out_src[i]
        )
