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
    for r in range(out.shape[0]):
        for h in prange(hi.shape[0]):
            base = hi[h]
            at = h * n_lo
            if first:
                for i in range(n_lo):
                    out[r, at + i] = table[r, base + lo[i]]
            else:
                for i in range(n_lo):
                    out[r, at + i] *= table[r, base + lo[i]]


def scatter_py(src: Any, out: Any, lo: Any, hi: Any, order: Any, starts: Any) -> None:
    """``junction._scatter_py`` shared among the threads by the blocks' high part of the target
    index (``order[starts[g]:starts[g + 1]]``: the blocks whose ``hi`` is the g-th distinct
    value, in their own order). Blocks of different groups add to different entries, and each
    entry gets its terms in the same order as ``junction._scatter_py`` gives them: the same
    sums, bit for bit."""
    n_lo = lo.shape[0]
    for r in range(src.shape[0]):
        for g in prange(starts.shape[0] - 1):
            for k in range(starts[g], starts[g + 1]):
                h = order[k]
                base = hi[h]
                at = h * n_lo
                for i in range(n_lo):
                    out[r, base + lo[i]] += src[r, at + i]
