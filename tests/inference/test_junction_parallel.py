"""The parallel forms of bucket elimination's table kernels give the same numbers as the serial
ones, bit for bit: the gather writes each entry once, and the scatter adds each entry's terms in
the same order (its blocks are grouped by the part of the target index they share). Expected
values: the serial kernels, run on the same tables."""

from __future__ import annotations

import numpy as np
import pytest

from kneesource.inference import junction
from kneesource.inference.exact import case_network
from kneesource.model.compiled import Person
from tests.inference.test_wide import MODEL, _linked_ids


def _pairs(seed: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(6):
        cluster = tuple(int(v) for v in rng.permutation(60)[:19])  # 2^19 entries a row
        k = int(rng.integers(1, 12))
        scope = tuple(int(v) for v in rng.choice(cluster, size=k, replace=False))
        out.append((scope, cluster))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_parallel_table_kernels_match_the_serial_ones_bit_for_bit(seed: int) -> None:
    gather, scatter, gather_parallel, scatter_parallel, _, _ = junction._compiled()
    rng = np.random.default_rng(seed)
    rows = 2
    for scope, cluster in _pairs(seed):
        assert 1 << len(cluster) >= junction.PARALLEL_ENTRIES
        lo, hi, _ = junction._split_index(scope, cluster)
        table = rng.random((1 << len(scope), rows))  # the rows last, as junction keeps them
        for first in (True, False):
            serial = rng.random((1 << len(cluster), rows))
            parallel = serial.copy()
            gather(serial, table, lo, hi, first)
            gather_parallel(parallel, table, lo, hi, first)
            assert np.array_equal(serial, parallel)
        full = rng.random((1 << len(cluster), rows))
        serial_sum = np.zeros((1 << len(scope), rows))
        parallel_sum = np.zeros((1 << len(scope), rows))
        scatter(full, serial_sum, lo, hi)
        order, starts = junction._groups(scope, cluster)
        scatter_parallel(full, parallel_sum, lo, hi, order, starts)
        assert np.array_equal(serial_sum, parallel_sum)


def test_a_wide_posterior_is_the_same_with_the_parallel_kernels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The 25 findings with most causes hold clusters of 2^18 entries and more, which the
    # parallel kernels take; with the threshold out of reach every table runs serially.
    net = case_network(MODEL, Person(age=50), dict.fromkeys(_linked_ids()[:25], True))
    the_plan = junction.plan(net)
    assert 1 << the_plan.max_cluster_bits >= junction.PARALLEL_ENTRIES
    parallel = junction.run(net, the_plan)
    monkeypatch.setattr(junction, "PARALLEL_ENTRIES", 1 << 40)
    serial = junction.run(net, the_plan)
    assert np.array_equal(parallel.marginals, serial.marginals)
    assert np.array_equal(parallel.log_z, serial.log_z)
