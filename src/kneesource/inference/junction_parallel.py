"""The bucket-elimination table kernels of ``junction``, in forms that share a large table's
work among the threads (compiled with ``parallel=True`` by ``junction._compiled``). A module of
their own, so that importing ``junction`` does not load the compiler."""

from __future__ import annotations

from typing import Any

from numba import prange


def gather_py(out: Any, table: Any, lo: Any, hi: Any, first: bool) -> None:
    """``junction._gather_py`` with the blocks of the cluster (each written by one block only)
    shared among the threads."""
    n_lo = lo.shape[0]
    rows = out.shape[1]
    if rows == 1:  # a single row: the plain loop, as in ``junction._gather_py``
        flat_out = out.reshape(out.size)
        flat_table = table.reshape(table.size)
        for h in prange(hi.shape[0]):
            base = hi[h]
            at = h * n_lo
            if first:
                for i in range(n_lo):
                    flat_out[at + i] = flat_table[base + lo[i]]
            else:
                for i in range(n_lo):
                    flat_out[at + i] *= flat_table[base + lo[i]]
        return
    for h in prange(hi.shape[0]):
        base = hi[h]
        at = h * n_lo
        for i in range(n_lo):
            s = base + lo[i]
            d = at + i
            if first:
                for r in range(rows):
                    out[d, r] = table[s, r]
            else:
                for r in range(rows):
                    out[d, r] *= table[s, r]


def scatter_py(src: Any, out: Any, lo: Any, hi: Any, order: Any, starts: Any) -> None:
    """``junction._scatter_py`` shared among the threads by the blocks' high part of the target
    index (``order[starts[g]:starts[g + 1]]``: the blocks whose ``hi`` is the g-th distinct
    value, in their own order). Blocks of different groups add to different entries, and each
    entry gets its terms in the same order as ``junction._scatter_py`` gives them: the same
    sums, bit for bit."""
    n_lo = lo.shape[0]
    rows = src.shape[1]
    if rows == 1:
        flat_src = src.reshape(src.size)
        flat_out = out.reshape(out.size)
        for g in prange(starts.shape[0] - 1):
            for k in range(starts[g], starts[g + 1]):
                h = order[k]
                base = hi[h]
                at = h * n_lo
                for i in range(n_lo):
                    flat_out[base + lo[i]] += flat_src[at + i]
        return
    for g in prange(starts.shape[0] - 1):
        for k in range(starts[g], starts[g + 1]):
            h = order[k]
            base = hi[h]
            at = h * n_lo
            for i in range(n_lo):
                d = base + lo[i]
                s = at + i
                for r in range(rows):
                    out[d, r] += src[s, r]
