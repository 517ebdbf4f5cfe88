"""Exact noisy-OR evidence propagation over subsets of activated nodes.

Why this algorithm: with noisy-OR links, an *absent* finding factorises over its parents, so it
folds into the conditions' weights at no cost. A *present* finding does not factorise; the classic
Quickscore method expands it by inclusion-exclusion, whose alternating sum cancels catastrophically
when the evidence is improbable. Here we instead track, for every subset S of the "bits" (present
findings and relevant nerve roots), the probability mass of "exactly S has been activated so far",
and add the causes one at a time. Every number stays non-negative, so nothing cancels.

A condition c with prior π and absent-finding weight w acts on the state vector x as
``T_c = (1 - π) I + π w M_c``, where ``M_c`` activates each bit j it touches with probability
``p_cj`` (``Act(j, p)``: mass at S moves to S ∪ {j} with probability p). Forward vectors
``α_k = T_k ... T_1 L δ_∅`` (L: the bits' leaks) and backward vectors
``β_k = (E T_n ... T_{k+1})ᵀ g`` (E: roots emitting into findings; g: all present findings on) give
every posterior locally: ``P(c_k | e) = π w βᵀ M α / βᵀ T α``, a ratio of two sums of
positive terms.

All arrays carry a leading batch axis so that many rows (cases or query variants sharing a layout)
run in the same numpy operations. Vectors are renormalised after each step (log scale kept).
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
    root_on: FloatArray  # (B, k) posterior of each root bit
    condition_on: FloatArray | None  # (B, n) posterior of each condition, if asked


def _index(k_bits: int, bit: int, value: int) -> tuple[slice | int, ...]:
    return (slice(None),) * (1 + bit) + (value,)


def _row_shape(batch: int, k_bits: int) -> tuple[int, ...]:
    return (batch,) + (1,) * (k_bits - 1)


def _activate(x: FloatArray, bit: int, p: FloatArray, k_bits: int) -> None:
    """In place: mass at S (bit off) moves to S ∪ {bit} with probability p (per row)."""
    lo, hi = _index(k_bits, bit, 0), _index(k_bits, bit, 1)
    pr = p.reshape(_row_shape(p.shape[0], k_bits))
    moved = x[lo] * pr
    x[hi] += moved
    x[lo] -= moved


def _activate_t(y: FloatArray, bit: int, p: FloatArray, k_bits: int) -> None:
    """In place: the transpose of :func:`_activate` (used on backward vectors)."""
    lo, hi = _index(k_bits, bit, 0), _index(k_bits, bit, 1)
    pr = p.reshape(_row_shape(p.shape[0], k_bits))
    y[lo] += pr * (y[hi] - y[lo])


def _apply_condition(
    x: FloatArray, act: FloatArray, bits: list[int], k_bits: int, transpose: bool
) -> FloatArray:
    out = x.copy()
    for bit in bits:
        if transpose:
            _activate_t(out, bit, act[:, bit], k_bits)
        else:
            _activate(out, bit, act[:, bit], k_bits)
    return out


def _emit(x: FloatArray, rows: Rows, layout: Layout, transpose: bool) -> FloatArray:
    """Roots that are on multiply by their weight and activate findings (or the transpose)."""
    out = x.copy()
    k_bits = layout.n_bits
    for r in range(layout.n_roots):
        on = _index(k_bits, layout.n_findings + r, 1)
        sub = out[on]  # a view: bit axes after the root's shift by one, finding axes do not
        sub *= rows.emit_weight[:, r].reshape(_row_shape(sub.shape[0], k_bits))
        for j in range(layout.n_findings):
            p = rows.emit[:, r, j]
            if not np.any(p):
                continue
            if transpose:
                _activate_t(sub, j, p, k_bits - 1)
            else:
                _activate(sub, j, p, k_bits - 1)
    return out


def _sum_rows(x: FloatArray) -> FloatArray:
    return np.asarray(x.reshape(x.shape[0], -1).sum(axis=1), dtype=np.float64)


def run(rows: Rows, layout: Layout, posteriors: bool) -> DPResult:
    """Evidence mass, root posteriors and (if ``posteriors``) condition posteriors for each row."""
    batch, n = rows.off.shape
    k_bits = layout.n_bits
    touched = [[int(b) for b in np.flatnonzero(rows.act[:, c, :].any(axis=0))] for c in range(n)]

    x = np.zeros((batch,) + (2,) * k_bits)
    x[(slice(None),) + (0,) * k_bits] = 1.0
    for bit in range(k_bits):
        _activate(x, bit, rows.leak[:, bit], k_bits)
    log_scale = np.zeros(batch)
    alphas: list[FloatArray] = []
    shape = _row_shape(batch, k_bits + 1)
    for c in range(n):
        if posteriors:
            alphas.append(x)
        moved = _apply_condition(x, rows.act[:, c, :], touched[c], k_bits, transpose=False)
        x = rows.off[:, c].reshape(shape) * x + rows.on[:, c].reshape(shape) * moved
        total = _sum_rows(x)
        x = x / total.reshape(shape)
        log_scale += np.log(total)

    final = _emit(x, rows, layout, transpose=False)
    all_on = final[(slice(None),) + (1,) * layout.n_findings]  # (B, 2, ..., 2) over root bits
    mass = _sum_rows(all_on) if layout.n_roots else all_on.reshape(batch)
    root_on = np.empty((batch, layout.n_roots))
    for r in range(layout.n_roots):
        root_on[:, r] = _sum_rows(all_on[_index(layout.n_roots, r, 1)]) / mass
    log_z = log_scale + np.log(mass)

    condition_on: FloatArray | None = None
    if posteriors:
        condition_on = np.empty((batch, n))
        goal = np.zeros_like(x)
        goal[(slice(None),) + (1,) * layout.n_findings] = 1.0
        beta = _emit(goal, rows, layout, transpose=True)
        for c in range(n - 1, -1, -1):
            alpha = alphas[c]
            moved = _apply_condition(alpha, rows.act[:, c, :], touched[c], k_bits, transpose=False)
            stay = rows.off[:, c] * _sum_rows(beta * alpha)
            go = rows.on[:, c] * _sum_rows(beta * moved)
            condition_on[:, c] = go / (stay + go)
            moved_t = _apply_condition(beta, rows.act[:, c, :], touched[c], k_bits, transpose=True)
            beta = rows.off[:, c].reshape(shape) * beta + rows.on[:, c].reshape(shape) * moved_t
            beta = beta / beta.reshape(batch, -1).max(axis=1).reshape(shape)
    return DPResult(log_z=log_z, root_on=root_on, condition_on=condition_on)
