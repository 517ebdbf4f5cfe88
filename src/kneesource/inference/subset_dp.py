"""Exact noisy-OR evidence propagation over subsets of activated nodes, with a moving frontier.

Why this algorithm: with noisy-OR links an *absent* finding factorises over its parents, so it
folds into the conditions' weights at no cost. A *present* finding does not factorise; the classic
Quickscore method expands it by inclusion-exclusion, whose alternating sum cancels catastrophically
when the evidence is improbable. Here we instead track, for every subset S of the live "bits"
(present findings and involved nerve roots), the probability mass of "exactly S has been activated
so far", and add the causes one condition at a time. Every number stays non-negative, so nothing
cancels.

The state holds only the *frontier*: a bit is born (with its leak) when its first cause is added,
and dies as soon as its last cause has been added. A dying present finding keeps only the mass in
which it was activated (it was observed present); a dying root first emits into its findings and is
then summed out. So the cost is about 2^(widest frontier) per step, not 2^(all bits).

A condition c with prior π and absent-finding weight w acts as ``T_c = (1 - π) I + π w M_c``, where
``M_c`` activates each live bit j it touches with probability ``p_cj``. The forward pass stores the
state before each step; a backward pass carries the transposed operators, and each posterior is a
local ratio of two sums of positive terms: ``P(c | e) = π w βᵀ M α / βᵀ T α``.

All arrays carry a leading batch axis so that many rows (cases or query variants sharing a layout)
run in the same numpy operations. States are renormalised after each step (log scale kept).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Layout:
    """Bits 0..m-1 are present findings, bits m..m+k-1 are nerve roots."""

    n_findings: int
    n_roots: int

    @property
    def n_bits(self) -> int:
        return self.n_findings + self.n_roots


@dataclass(frozen=True)
class Rows:
    """Per-row parameters for one layout (B rows, n conditions, K bits)."""

    off: FloatArray  # (B, n)  1 - prior
    on: FloatArray  # (B, n)  prior * absent-finding weight
    act: FloatArray  # (B, n, K) activation of each bit by each condition
    leak: FloatArray  # (B, K)
    emit: FloatArray  # (B, k, m) activation of finding bits by root bits
    emit_weight: FloatArray  # (B, k) absent-finding weight of a present root


@dataclass(frozen=True)
class DPResult:
    log_z: FloatArray  # (B,) log of the evidence mass handled by the DP
    root_on: FloatArray  # (B, k) posterior of each root bit (NaN unless posteriors were asked)
    condition_on: FloatArray | None  # (B, n) posterior of each condition, if asked


# One step of the schedule: ("birth", bit), ("cond", c), ("root", r), ("kill", bit).
Step = tuple[str, int]


def schedule(touches: list[set[int]], emits: list[set[int]], layout: Layout, n: int) -> list[Step]:
    """Order the conditions greedily to keep the frontier narrow, and place births and deaths.

    ``touches[c]``: the bits condition c activates; ``emits[r]``: the finding bits root r does.
    """
    m, k = layout.n_findings, layout.n_roots
    pending = {j: {c for c in range(n) if j in touches[c]} for j in range(m + k)}
    root_parents = {j: {r for r in range(k) if j in emits[r]} for j in range(m)}
    alive: set[int] = set()
    steps: list[Step] = []

    def settle() -> None:
        # Roots whose causes are all added emit and leave; then findings with nothing pending.
        for r in range(k):
            bit = m + r
            if bit in alive and not pending[bit]:
                for j in sorted(emits[r] - alive):
                    steps.append(("birth", j))
                    alive.add(j)
                steps.append(("root", r))
                alive.discard(bit)
                for j in emits[r]:
                    root_parents[j].discard(r)
        for j in range(m):
            if j in alive and not pending[j] and not root_parents[j]:
                steps.append(("kill", j))
                alive.discard(j)

    # Bits that no condition touches are born at once (roots then emit and leave at once).
    for bit in range(m + k):
        if not pending[bit]:
            steps.append(("birth", bit))
            alive.add(bit)
    settle()
    remaining = set(range(n))
    while remaining:

        def width(c: int) -> tuple[int, int]:
            born = touches[c] - alive
            done = sum(1 for j in touches[c] | alive if pending[j] <= {c})
            return (len(alive | born) - done, c)

        c = min(remaining, key=width)
        remaining.discard(c)
        for j in sorted(touches[c] - alive):
            steps.append(("birth", j))
            alive.add(j)
        steps.append(("cond", c))
        for j in touches[c]:
            pending[j].discard(c)
        settle()
    return steps


def _take(x: FloatArray, axis: int, value: int) -> FloatArray:
    """A view of the slice where the bit on ``axis`` has ``value``."""
    return x[(slice(None),) * (1 + axis) + (value,)]


def _stack(lo: FloatArray, hi: FloatArray, axis: int) -> FloatArray:
    return np.stack([lo, hi], axis=1 + axis)


def _per_row(v: FloatArray, ndim: int) -> FloatArray:
    return v.reshape((v.shape[0],) + (1,) * (ndim - 1))


def _activate(x: FloatArray, axis: int, p: FloatArray, transpose: bool) -> None:
    """In place: mass at S (bit off) moves to S ∪ {bit} with probability p, per row (or the
    transpose of that map, for backward vectors)."""
    lo, hi = _take(x, axis, 0), _take(x, axis, 1)
    pr = _per_row(p, lo.ndim)
    if transpose:
        lo += pr * (hi - lo)
    else:
        moved = lo * pr
        hi += moved
        lo -= moved


class _Frontier:
    """The live bits, in axis order, and the linear operators on the state."""

    def __init__(self, rows: Rows, layout: Layout) -> None:
        self.rows = rows
        self.m = layout.n_findings
        self.alive: list[int] = []
        n, k = rows.off.shape[1], layout.n_roots
        self.touches = [
            set(np.flatnonzero(rows.act[:, c, :].any(axis=0)).tolist()) for c in range(n)
        ]
        self.emits = [
            set(np.flatnonzero(rows.emit[:, r, :].any(axis=0)).tolist()) for r in range(k)
        ]

    def leak(self, bit: int) -> FloatArray:
        return self.rows.leak[:, bit]

    def condition(self, x: FloatArray, c: int, transpose: bool) -> FloatArray:
        """M_c x (or M_cᵀ x) as a new array: activate every live bit the condition touches."""
        out = x.copy()
        for axis, bit in enumerate(self.alive):
            if bit in self.touches[c]:
                _activate(out, axis, self.rows.act[:, c, bit], transpose)
        return out

    def emission(self, x: FloatArray, r: int, transpose: bool) -> FloatArray:
        """For the slice where root r is on (its axis removed): its weight and its activations."""
        alive = [b for b in self.alive if b != self.m + r]
        out = x * _per_row(self.rows.emit_weight[:, r], x.ndim)
        for axis, bit in enumerate(alive):
            if bit in self.emits[r]:
                _activate(out, axis, self.rows.emit[:, r, bit], transpose)
        return out


def run(rows: Rows, layout: Layout, posteriors: bool) -> DPResult:
    """Evidence mass, root posteriors and (if ``posteriors``) condition posteriors for each row."""
    batch, n = rows.off.shape
    front = _Frontier(rows, layout)
    steps = schedule(front.touches, front.emits, layout, n)
    x = np.ones(batch)
    log_scale = np.zeros(batch)
    saved: list[tuple[FloatArray, list[int]]] = []
    root_on = np.full((batch, layout.n_roots), np.nan)
    for kind, idx in steps:
        saved.append((x, list(front.alive)))
        if kind == "birth":
            leak = _per_row(front.leak(idx), x.ndim + 1)
            x = np.concatenate([x[..., None] * (1.0 - leak), x[..., None] * leak], axis=-1)
            front.alive.append(idx)
        elif kind == "cond":
            moved = front.condition(x, idx, transpose=False)
            x = _per_row(rows.off[:, idx], x.ndim) * x + _per_row(rows.on[:, idx], x.ndim) * moved
            total = x.reshape(batch, -1).sum(axis=1)
            x = x / _per_row(total, x.ndim)
            log_scale += np.log(total)
        elif kind == "root":
            axis = front.alive.index(layout.n_findings + idx)
            x = _take(x, axis, 0) + front.emission(_take(x, axis, 1), idx, transpose=False)
            front.alive.pop(axis)
        else:  # kill: a present finding keeps only the mass in which it was activated
            axis = front.alive.index(idx)
            x = _take(x, axis, 1).copy()
            front.alive.pop(axis)
    assert not front.alive and x.shape == (batch,)
    log_z = log_scale + np.log(x)
    if not posteriors:
        return DPResult(log_z=log_z, root_on=root_on, condition_on=None)

    condition_on = np.full((batch, n), np.nan)
    beta = np.ones(batch)
    for (kind, idx), (alpha, alive) in zip(reversed(steps), reversed(saved), strict=True):
        front.alive = alive
        if kind == "birth":
            leak = _per_row(front.leak(idx), beta.ndim - 1)
            beta = beta[..., 0] * (1.0 - leak) + beta[..., 1] * leak
        elif kind == "cond":
            off, on = rows.off[:, idx], rows.on[:, idx]
            moved = front.condition(alpha, idx, transpose=False)
            stay = off * (beta * alpha).reshape(batch, -1).sum(axis=1)
            go = on * (beta * moved).reshape(batch, -1).sum(axis=1)
            condition_on[:, idx] = go / (stay + go)
            moved_t = front.condition(beta, idx, transpose=True)
            beta = _per_row(off, beta.ndim) * beta + _per_row(on, beta.ndim) * moved_t
            beta = beta / _per_row(beta.reshape(batch, -1).max(axis=1), beta.ndim)
        elif kind == "root":
            axis = alive.index(layout.n_findings + idx)
            on_alpha = front.emission(_take(alpha, axis, 1), idx, transpose=False)
            on_mass = (beta * on_alpha).reshape(batch, -1).sum(axis=1)
            off_mass = (beta * _take(alpha, axis, 0)).reshape(batch, -1).sum(axis=1)
            root_on[:, idx] = on_mass / (on_mass + off_mass)
            beta = _stack(beta, front.emission(beta, idx, transpose=True), axis)
        else:
            axis = alive.index(idx)
            beta = _stack(np.zeros_like(beta), beta, axis)
    return DPResult(log_z=log_z, root_on=root_on, condition_on=condition_on)
