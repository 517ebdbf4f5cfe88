"""Exact posteriors by bucket elimination on the noisy-OR network, for evidence of any width.

Why this algorithm: the compiled kernel keeps one state entry per subset of the present findings,
so its cost doubles with every present finding (2^16 entries is its limit; ``kernel``). Here the
cost follows the *treewidth* of the evidence instead. Every node stays binary:

* a condition is a variable with a unary factor (its prior, times the weight of every absent
  finding it would have caused: absent findings factorise and cost nothing);
* a nerve root is a variable with its noisy-OR table over the conditions that reach it, and the
  weight of its absent findings;
* a present finding with few causes is one factor over them, P(finding | causes); one with many
  causes is *divorced* into a chain of binary "activated so far" variables, one link per cause,
  so that no factor holds more than three variables and the elimination order decides how much of
  the chain and how many causes are held at once.

Variables are eliminated in a greedy min-fill order; the upward pass leaves, for every variable,
a cluster (its bucket) and a message to the bucket of the next variable it shares; a downward pass
sends the messages back, and each variable's marginal is read from its own cluster. All numbers
are non-negative products and sums (no cancellation), and messages are rescaled as they go (the
log scale is kept, which gives the evidence probability).

Every row of a batch shares the structure and differs only in numbers, so one pass answers a case
and all its query variants together: a source group's conditions held absent (for the pain
source), an observed finding left out (for the explanations). ``plan`` works out the cost before
anything is allocated: the largest cluster and the number of table entries of a whole pass, so an
input beyond the stated bound is refused with a clear message instead of exhausting the machine.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import math
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from kneesource.inference import threads

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
# The low bits of a cluster index whose table positions are looked up in a small array.
LOW_BITS = 10

# A present finding with more causes than this is divorced into a chain of binary variables.
DIRECT_PARENTS = 3
# The bound: no cluster above 2^MAX_CLUSTER_BITS entries per row, and a batch is cut into chunks
# of rows so that the tables a chunk holds at once (every message, a cluster, its belief and a
# temporary) stay under CHUNK_ENTRIES entries (256 MB); a single row always runs.
MAX_CLUSTER_BITS = 25
CHUNK_ENTRIES = 1 << 25
# Rows run together while their largest cluster holds at most this many entries in all (16 MB):
# a pass over many rows pays Python's work per bucket once and streams contiguous rows, but rows
# of clusters this large gain nothing from sharing (0.6 ns an entry either way on a 2-core
# x86_64) and a few of them together ran up to 1.5 times slower than one at a time.
ROWS_CLUSTER_ENTRIES = 1 << 21


@dataclass(frozen=True)
class NoisyOr:
    """A noisy-OR child: ``parents`` are variable ids, ``weights`` the activation by each, and
    ``child`` the child's variable (None when the child is a finding observed present)."""

    parents: tuple[int, ...]
    weights: tuple[float, ...]
    leak: float
    child: int | None


@dataclass
class _Factor:
    scope: tuple[int, ...]
    table: FloatArray  # (2,) * len(scope) + (B,): the rows last, see ``_run_rows``


@dataclass
class Network:
    """A case's network: ``n_vars`` binary variables, the first ``n_named`` of which are the ones
    whose marginals are wanted; factors carry a leading axis of ``rows``."""

    n_vars: int
    n_named: int
    rows: int
    factors: list[_Factor] = field(default_factory=list)  # tables with the rows last
    log_const: FloatArray | None = None  # (B,) constant factors, as logs

    def new_var(self) -> int:
        self.n_vars += 1
        return self.n_vars - 1

    def add(self, scope: Sequence[int], table: FloatArray) -> None:
        """A factor over ``scope``: one table for every row, or the rows' tables stacked on a
        last axis."""
        table = np.asarray(table, dtype=np.float64)
        if table.ndim == len(scope):
            table = np.broadcast_to(table[..., None], (*table.shape, self.rows))
        self.factors.append(_Factor(tuple(scope), table))

    def add_noisy_or(self, node: NoisyOr, removed: NDArray[np.bool_] | None = None) -> None:
        """The child's table over its parents, as one factor or a divorced chain. ``removed``
        marks rows in which an observed child is left out (its factor becomes 1)."""
        parents, weights, leak = node.parents, node.weights, node.leak
        k = len(parents)
        if k == 0:
            if node.child is None:
                const = np.full(self.rows, math.log(leak))
                if removed is not None:
                    const[removed] = 0.0
                self.log_const = const if self.log_const is None else self.log_const + const
            else:
                self.add((node.child,), np.array([1.0 - leak, leak]))
            return
        if k <= DIRECT_PARENTS:
            off = np.full((2,) * k, 1.0 - leak)
            for i, w in enumerate(weights):
                shape = [1] * k
                shape[i] = 2
                off = off * np.array([1.0, 1.0 - w]).reshape(shape)
            if node.child is None:
                table = np.broadcast_to((1.0 - off)[..., None], (*off.shape, self.rows)).copy()
                if removed is not None:
                    table[..., removed] = 1.0
                self.add(parents, table)
            else:
                self.add((*parents, node.child), np.stack([off, 1.0 - off], axis=-1))
            return
        # Chain: a1 = leak or parent 1 fires; a_i = a_(i-1) or parent i fires; the last link
        # gives the child itself (or, observed present, only the mass in which it fired).
        first = self.new_var()
        w0 = weights[0]
        start = np.array(
            [[1.0 - leak, leak], [(1.0 - leak) * (1.0 - w0), 1.0 - (1.0 - leak) * (1.0 - w0)]]
        )
        table = np.broadcast_to(start[..., None], (2, 2, self.rows)).copy()
        if removed is not None:
            table[..., removed] = np.array([[0.0, 1.0], [0.0, 1.0]])[..., None]
        self.add((parents[0], first), table)
        prev = first
        for i in range(1, k):
            w = weights[i]
            # link[a_prev, parent, a_next]
            link = np.zeros((2, 2, 2))
            link[0, 0] = [1.0, 0.0]
            link[0, 1] = [1.0 - w, w]
            link[1, :, 1] = 1.0
            last = i == k - 1
            if last and node.child is None:
                self.add((prev, parents[i]), link[..., 1])
                return
            nxt = node.child if last and node.child is not None else self.new_var()
            self.add((prev, parents[i], nxt), link)
            prev = nxt


@dataclass(frozen=True)
class Bucket:
    var: int
    scope: tuple[int, ...]  # the cluster: var first, then the separator
    factors: tuple[int, ...]  # indices of the network's factors placed here
    children: tuple[int, ...]  # buckets whose message comes here
    parent: int  # bucket the message goes to, -1 for none (the separator is empty)


# Table entries of a pass from which ``plan`` also tries the exact min-fill order: about 20 ms
# of work at 1 ns an entry, where a few tens of milliseconds of planning can save seconds.
SECOND_ORDER_FROM = 1 << 24


@dataclass(frozen=True)
class Plan:
    buckets: tuple[Bucket, ...]
    position: dict[int, int]  # of each variable in the elimination order
    max_cluster_bits: int
    entries_per_row: int  # table entries one row's pass touches (upward and downward)
    memory_per_row: int = 0  # table entries held at once for one row: messages and a cluster

    @property
    def feasible(self) -> bool:
        return self.max_cluster_bits <= MAX_CLUSTER_BITS


def elimination_order(
    n_vars: int, scopes: Sequence[Sequence[int]], exact: bool = True
) -> list[int]:
    """Greedy min-fill (ties: fewest neighbours, then lowest id). Eliminating a variable joins
    its neighbours, which changes the fill of every variable next to two of them: with ``exact``
    the neighbours and their neighbours are rescored, so the order is exactly greedy min-fill;
    without, only the neighbours are (cheaper, with stale scores further out). Neither order is
    always the narrower (``plan`` tries both). Neighbourhoods are bit sets (Python integers)."""
    adj = [0] * n_vars
    for scope in scopes:
        mask = 0
        for v in scope:
            mask |= 1 << v
        for v in scope:
            adj[v] |= mask
    for v in range(n_vars):
        adj[v] &= ~(1 << v)

    def members(mask: int) -> list[int]:
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
        return out

    def score(v: int) -> tuple[int, int, int]:
        nb = adj[v]
        # Each missing edge between two neighbours is seen from both ends.
        missing = sum((nb & ~adj[a] & ~(1 << a)).bit_count() for a in members(nb))
        return (missing // 2, nb.bit_count(), v)

    scores = {v: score(v) for v in range(n_vars)}
    order: list[int] = []
    while scores:
        v = min(scores, key=scores.__getitem__)
        near = adj[v]
        nb = members(near)
        for a in nb:
            near |= adj[a]
            adj[a] = (adj[a] | adj[v]) & ~(1 << a) & ~(1 << v)
        order.append(v)
        del scores[v]
        for a in members(near & ~(1 << v)) if exact else nb:
            scores[a] = score(a)
    return order


class PlanCache:
    """Plans of recent network structures, the least recently used dropped beyond ``limit``;
    safe to share between threads."""

    def __init__(self, limit: int = 512) -> None:
        self.limit = limit
        self._plans: collections.OrderedDict[Hashable, Plan] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Plan | None:
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Plan) -> None:
        with self._lock:
            self._plans[key] = value
            while len(self._plans) > self.limit:
                self._plans.popitem(last=False)

    def __len__(self) -> int:
        return len(self._plans)


def plan(net: Network, cache: PlanCache | None = None) -> Plan:
    """Buckets for a min-fill order, and the cost of a pass, before any table is built: the
    quick order of ``elimination_order``, and for a pass of more than ``SECOND_ORDER_FROM``
    entries also the exact one (a few times slower to find, and narrower on most of the
    hardest cases), keeping whichever pass costs less (a feasible one first).
    Plans depend only on the network's structure; ``cache`` keeps them for networks of the same
    structure (the same present findings)."""
    scopes = [f.scope for f in net.factors]
    if cache is not None:
        key = (net.n_vars, tuple(scopes))
        found = cache.get(key)
        if found is None:
            found = plan(net)
            cache.put(key, found)
        return found
    quick = _plan_for(elimination_order(net.n_vars, scopes, exact=False), scopes)
    if quick.entries_per_row <= SECOND_ORDER_FROM:
        return quick
    full = _plan_for(elimination_order(net.n_vars, scopes, exact=True), scopes)
    return min((full, quick), key=lambda p: (not p.feasible, p.entries_per_row))


def _plan_for(order: list[int], scopes: list[tuple[int, ...]]) -> Plan:
    pos = {v: i for i, v in enumerate(order)}
    placed: list[list[int]] = [[] for _ in order]
    for i, scope in enumerate(scopes):
        placed[min(pos[v] for v in scope)].append(i)
    incoming: list[list[int]] = [[] for _ in order]
    seps: list[set[int]] = [set() for _ in order]
    buckets: list[Bucket] = []
    widest, entries, messages = 0, 0, 0
    for i, v in enumerate(order):
        cluster = {v} | seps[i]
        for j in placed[i]:
            cluster.update(scopes[j])
        sep = cluster - {v}
        parent = min((pos[u] for u in sep), default=-1)
        if parent >= 0:
            seps[parent] |= sep
            incoming[parent].append(i)
        scope = (v, *sorted(sep, key=pos.__getitem__))
        buckets.append(Bucket(v, scope, tuple(placed[i]), tuple(incoming[i]), parent))
        widest = max(widest, len(scope))
        entries += (2 + len(incoming[i]) + len(placed[i])) << len(scope)
        if parent >= 0:
            messages += 1 << len(sep)
    # Every message upward and downward is kept for the pass, beside a cluster, its belief and
    # a temporary of the largest size.
    memory = 2 * messages + (3 << widest)
    return Plan(tuple(buckets), pos, widest, 2 * entries, memory)


@functools.lru_cache(maxsize=8192)
def _split_index(
    scope: tuple[int, ...], cluster: tuple[int, ...]
) -> tuple[IntArray, IntArray, int]:
    """Where each entry of a cluster's flat table (C order) reads a table over ``scope``: the flat
    cluster index is split into high and low bits, and the table index is ``hi[h] + lo[l]``."""
    w = len(cluster)
    low_bits = min(w, LOW_BITS)
    lo = np.arange(1 << low_bits, dtype=np.int64)
    hi = np.arange(1 << (w - low_bits), dtype=np.int64)
    lo_idx = np.zeros_like(lo)
    hi_idx = np.zeros_like(hi)
    k = len(scope)
    for j, v in enumerate(scope):
        bit = w - 1 - cluster.index(v)  # the variable's bit in the cluster index
        out_bit = k - 1 - j  # and in the table's index
        if bit < low_bits:
            lo_idx |= ((lo >> bit) & 1) << out_bit
        else:
            hi_idx |= ((hi >> (bit - low_bits)) & 1) << out_bit
    return lo_idx, hi_idx, low_bits


def _gather_py(out: Any, table: Any, lo: Any, hi: Any, first: bool) -> None:
    """``out`` (cluster entries, rows) set to, or multiplied by, the entries of ``table`` (its
    entries, rows) that each cluster entry reads (``_split_index``). The rows are the inner loop:
    a batch's rows share every index, so one lookup serves them all and their values are
    contiguous."""
    n_lo = lo.shape[0]
    rows = out.shape[1]
    if rows == 1:  # a single row: the plain loop, without an inner loop of one
        flat_out = out.reshape(out.size)
        flat_table = table.reshape(table.size)
        for h in range(hi.shape[0]):
            base = hi[h]
            at = h * n_lo
            if first:
                for i in range(n_lo):
                    flat_out[at + i] = flat_table[base + lo[i]]
            else:
                for i in range(n_lo):
                    flat_out[at + i] *= flat_table[base + lo[i]]
        return
    for h in range(hi.shape[0]):
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


def _scatter_py(src: Any, out: Any, lo: Any, hi: Any) -> None:
    """``out`` (entries, rows) plus every cluster entry of ``src`` (cluster entries, rows) added
    to the entry it reads (``_split_index``): the sum over the variables not kept."""
    n_lo = lo.shape[0]
    rows = src.shape[1]
    if rows == 1:
        flat_src = src.reshape(src.size)
        flat_out = out.reshape(out.size)
        for h in range(hi.shape[0]):
            base = hi[h]
            at = h * n_lo
            for i in range(n_lo):
                flat_out[base + lo[i]] += flat_src[at + i]
        return
    for h in range(hi.shape[0]):
        base = hi[h]
        at = h * n_lo
        for i in range(n_lo):
            d = base + lo[i]
            s = at + i
            for r in range(rows):
                out[d, r] += src[s, r]


def _rescale_rows_py(table: Any) -> Any:
    """In place on ``table`` (entries, rows), all entries non-negative: each row divided by its
    largest entry (1 for a row of zeros), which is returned. numpy's maximum along the first
    axis, and its broadcast product, of a table with a few rows run several times slower."""
    top = np.zeros(table.shape[1])
    for s in range(table.shape[0]):
        for r in range(table.shape[1]):
            if table[s, r] > top[r]:
                top[r] = table[s, r]
    inverse = np.empty(table.shape[1])
    for r in range(table.shape[1]):
        if top[r] <= 0.0:
            top[r] = 1.0
        inverse[r] = 1.0 / top[r]
    for s in range(table.shape[0]):
        for r in range(table.shape[1]):
            table[s, r] *= inverse[r]
    return top


def _half_sums_py(table: Any) -> Any:
    """For ``table`` (entries, rows): each row's sum over the first half of the entries (the
    cluster's first variable absent) and over the second (present). numpy's sums along an axis
    that is not the last, with a few rows, run several times slower."""
    half = table.shape[0] // 2
    out = np.zeros((2, table.shape[1]))
    for s in range(table.shape[0]):
        k = 1 if s >= half else 0
        for r in range(table.shape[1]):
            out[k, r] += table[s, r]
    return out


# From this many table entries a row (the cluster's), the table kernels share the work among
# the threads; below it starting them costs more than it saves.
PARALLEL_ENTRIES = 1 << 18


@functools.lru_cache(maxsize=8192)
def _groups(keep: tuple[int, ...], cluster: tuple[int, ...]) -> tuple[IntArray, IntArray]:
    """For the parallel scatter (``junction_parallel``): the blocks ordered by the high part of
    their target index (stable), and where each distinct value starts."""
    _, hi, _ = _split_index(keep, cluster)
    order = np.argsort(hi, kind="stable").astype(np.int64)
    ordered = hi[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True]).astype(np.int64)
    return order, starts


class _Kernels(NamedTuple):
    gather: Callable[..., None]
    scatter: Callable[..., None]
    gather_parallel: Callable[..., None]
    scatter_parallel: Callable[..., None]
    rescale_rows: Callable[[FloatArray], FloatArray]
    half_sums: Callable[[FloatArray], FloatArray]


@functools.cache
def _compiled() -> _Kernels:
    """The table kernels, compiled (from the on-disk cache) the first time a wide case runs, so
    that narrow cases never load the compiler. The parallel forms are functions of their own,
    not the serial ones compiled again with ``parallel``: the on-disk cache keeps one entry per
    function, so one function compiled both ways would serve whichever was cached first."""
    from numba import njit

    from kneesource.inference import junction_parallel

    return _Kernels(
        njit(cache=True, nogil=True)(_gather_py),
        njit(cache=True, nogil=True)(_scatter_py),
        njit(cache=True, nogil=True, parallel=True)(junction_parallel.gather_py),
        njit(cache=True, nogil=True, parallel=True)(junction_parallel.scatter_py),
        njit(cache=True, nogil=True)(_rescale_rows_py),
        njit(cache=True, nogil=True)(_half_sums_py),
    )


def load_kernels() -> None:
    """Load the table kernels now and run each once on a tiny table: their first call in a
    process links the cached machine code (about 0.3 s on a 2-core machine), which a server or
    an interview pays at start-up instead of during the first wide case someone waits for."""
    gather, scatter, gather_parallel, scatter_parallel, rescale_rows, half_sums = _compiled()
    lo, hi = np.arange(2, dtype=np.int64), np.zeros(1, dtype=np.int64)
    table = np.ones((2, 1))
    gather(table, np.ones((2, 1)), lo, hi, True)
    scatter(table, np.zeros((2, 1)), lo, hi)
    gather_parallel(table, np.ones((2, 1)), lo, hi, True)
    order, starts = np.zeros(1, dtype=np.int64), np.array([0, 1], dtype=np.int64)
    scatter_parallel(table, np.zeros((2, 1)), lo, hi, order, starts)
    rescale_rows(table)
    half_sums(table)


def _product(
    parts: Sequence[tuple[FloatArray, Sequence[int]]], cluster: Sequence[int], rows: int
) -> FloatArray:
    """The product of the parts (tables over subsets of the cluster) over the cluster."""
    out = np.empty((1 << len(cluster), rows))
    if not parts:
        out.fill(1.0)
    kernels = _compiled()
    threaded = out.shape[0] >= PARALLEL_ENTRIES and threads.allowed()
    gather = kernels.gather_parallel if threaded else kernels.gather
    with threads.PARALLEL_LAUNCH if threaded else contextlib.nullcontext():
        for k, (table, scope) in enumerate(parts):
            lo, hi, _ = _split_index(tuple(scope), tuple(cluster))
            gather(out, np.ascontiguousarray(table).reshape(-1, rows), lo, hi, k == 0)
    return out.reshape((2,) * len(cluster) + (rows,))


def _sum_to(full: FloatArray, cluster: Sequence[int], keep: Sequence[int]) -> FloatArray:
    """``full`` (cluster, rows) summed over every variable not in ``keep``."""
    rows = full.shape[-1]
    out = np.zeros((1 << len(keep), rows))
    lo, hi, _ = _split_index(tuple(keep), tuple(cluster))
    flat = full.reshape(-1, rows)
    kernels = _compiled()
    # Shared among the threads when the table is large and its blocks fall in two groups or more.
    threaded = flat.shape[0] >= PARALLEL_ENTRIES and threads.allowed()
    groups = _groups(tuple(keep), tuple(cluster)) if threaded else None
    if groups is not None and len(groups[1]) > 2:
        with threads.PARALLEL_LAUNCH:
            kernels.scatter_parallel(flat, out, lo, hi, *groups)
    else:
        kernels.scatter(flat, out, lo, hi)
    return out.reshape((2,) * len(keep) + (rows,))


def _rescale(msg: FloatArray) -> tuple[FloatArray, FloatArray]:
    """In place: each row (the last axis) divided by its largest entry (when positive); returns
    the log scales."""
    if msg.shape[-1] > 1:
        return msg, np.log(_compiled().rescale_rows(msg.reshape(-1, msg.shape[-1])))
    top = msg.max(keepdims=True).reshape(1)
    top = np.where(top > 0.0, top, 1.0)
    msg *= 1.0 / top
    return msg, np.log(top)


@dataclass(frozen=True)
class Result:
    marginals: FloatArray  # (B, n_named) P(variable present | evidence of the row)
    log_z: FloatArray  # (B,) log P(evidence of the row), factors as given


# A pass whose single row needs more tables than a chunk may hold waits for any other such pass
# in the process: a server given several very wide cases at once would otherwise hold all their
# tables together (up to about 3 GB each at the bound).
_OVER_BUDGET = threading.Lock()


def run(net: Network, the_plan: Plan | None = None) -> Result:
    """Marginals of the named variables and the evidence probability for every row, in chunks of
    rows (``CHUNK_ENTRIES``, ``ROWS_CLUSTER_ENTRIES``); passes whose single row is over the chunk
    budget run one at a time."""
    p = the_plan if the_plan is not None else plan(net)
    if not p.feasible:
        raise ValueError(f"a cluster of {p.max_cluster_bits} variables exceeds the bound")
    step = max(
        1,
        min(CHUNK_ENTRIES // max(1, p.memory_per_row), ROWS_CLUSTER_ENTRIES >> p.max_cluster_bits),
    )
    marg = np.empty((net.rows, net.n_named))
    log_z = np.empty(net.rows)
    over_budget = p.memory_per_row > CHUNK_ENTRIES
    with _OVER_BUDGET if over_budget else contextlib.nullcontext():
        for lo in range(0, net.rows, step):
            hi = min(net.rows, lo + step)
            m, z = _run_rows(net, p, slice(lo, hi))
            marg[lo:hi], log_z[lo:hi] = m, z
    return Result(marg, log_z)


def _in_order(
    table: FloatArray, scope: tuple[int, ...], position: dict[int, int]
) -> tuple[FloatArray, tuple[int, ...]]:
    """The table with its variables in elimination order, the order of every cluster (the rows
    stay last)."""
    order = sorted(range(len(scope)), key=lambda i: position[scope[i]])
    moved = np.ascontiguousarray(np.transpose(table, (*order, len(scope))))
    return moved, tuple(scope[i] for i in order)


def _run_rows(net: Network, p: Plan, rows: slice) -> tuple[FloatArray, FloatArray]:
    """One upward and downward pass for ``rows``. Every table keeps the rows on its last axis:
    the rows share every index of a cluster, so the table kernels look each one up once for all
    of them and read and write their values side by side."""
    b_rows = len(range(*rows.indices(net.rows)))
    tables = [_in_order(f.table[..., rows], f.scope, p.position) for f in net.factors]
    buckets = p.buckets
    up: list[tuple[FloatArray, tuple[int, ...]] | None] = [None] * len(buckets)
    log_z = np.zeros(b_rows)
    if net.log_const is not None:
        log_z += net.log_const[rows]
    for i, b in enumerate(buckets):
        parts = [tables[j] for j in b.factors]
        parts += [up_msg for c in b.children if (up_msg := up[c]) is not None]
        prod = _product(parts, b.scope, b_rows)
        msg, scale = _rescale(prod[0] + prod[1])
        log_z += scale
        if b.parent >= 0:
            up[i] = (msg, b.scope[1:])
    marg = np.full((b_rows, net.n_named), np.nan)
    down: list[FloatArray | None] = [None] * len(buckets)
    for i in range(len(buckets) - 1, -1, -1):
        b = buckets[i]
        parts = [tables[j] for j in b.factors]
        d = down[i]
        if d is not None:
            parts.append((d, b.scope[1:]))
        kids = [c for c in b.children if up[c] is not None]
        parts += [up[c] for c in kids]  # type: ignore[misc]
        belief = _product(parts, b.scope, b_rows)
        if b.var < net.n_named:
            if b_rows == 1:
                flat = belief.reshape(2, -1).sum(axis=1)[:, None]
            else:
                flat = _compiled().half_sums(belief.reshape(-1, b_rows))
            marg[:, b.var] = flat[1] / (flat[0] + flat[1])
        for c in kids:
            # The message to a child is the belief on its separator divided by the child's own
            # message (which does not vary over the variables summed out); 0/0 is 0, as a zero
            # message means the child's whole cluster is zero there.
            msg, scope = up[c]  # type: ignore[misc]
            summed = _sum_to(belief, b.scope, scope)
            out = np.divide(summed, msg, out=np.zeros_like(summed), where=msg > 0.0)
            down[c] = _rescale(out)[0]
    return marg, log_z
