"""The numpy kernel gives the compiled kernel's numbers on the shipped network, and a process that
assesses one case never loads the compiler (that is what makes a single ``assess`` start fast).

Expected values come from the compiled kernel, which ``test_exact_vs_brute_force`` checks
against enumeration and ``tests/model`` against pyAgrum; the numpy kernel is checked against
enumeration there too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kneesource.engine import default_engine
from kneesource.inference import exact, kernel_np
from kneesource.inference.exact import encode_evidence
from kneesource.model.compiled import Person

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(kernel, model, priors, evidence):
    b, n, r = len(priors), model.n_conditions, len(model.root_ids)
    out = [np.zeros((b, n)), np.zeros((b, r)), np.zeros((b, 5)), np.zeros(b), np.zeros(b, bool)]
    kernel(priors, *exact._kernel_model(model), evidence, *out)
    return out


def _cases(model, rng, count):
    """Random people with random answers, many of them present: from none to beyond the widest
    state the kernels hold (rows beyond it are declined by both)."""
    linked = np.flatnonzero(model.condition_finding.any(axis=0))
    cases = []
    for i in range(count):
        answered = rng.choice(len(model.finding_ids), size=int(rng.integers(0, 60)), replace=False)
        findings = {model.finding_ids[j]: bool(rng.random() < 0.15) for j in answered}
        extra = rng.choice(linked, size=int(rng.integers(0, 40)), replace=False)
        findings.update({model.finding_ids[j]: True for j in extra})
        sex = ("female", "male", None)[i % 3]
        cases.append((Person(age=int(rng.integers(1, 95)), sex=sex), findings))
    return cases


def test_numpy_kernel_gives_the_compiled_kernels_numbers() -> None:
    model = default_engine().model
    compiled = exact.load_compiled()
    priors, evidence = encode_evidence(model, _cases(model, np.random.default_rng(17), 300))
    want = _run(compiled, model, priors, evidence)
    got = _run(kernel_np.batch, model, priors, evidence)
    np.testing.assert_array_equal(got[4], want[4])  # the same rows declined as too wide
    # ... and exactly those the estimate (``exact._kernel_shape``) says are too wide.
    np.testing.assert_array_equal(want[4], exact._row_bits(model, evidence) <= kernel_np.MAX_BITS)
    ok = want[4]
    assert 100 < ok.sum() < len(ok) - 50, "the sample should hold both narrow and too-wide rows"
    for g, w in zip(got[:4], want[:4], strict=True):
        np.testing.assert_allclose(g[ok], w[ok], rtol=1e-9, atol=1e-12)
    present = (evidence[ok] == 1).sum(axis=1)
    assert present.max() >= 10, "wide rows (many present findings) must be compared"
    # Rows whose present findings and involved roots together exceed MAX_BITS are held when few
    # are in play at one step: such rows must be among those compared.
    observed = (evidence[ok] >= 0).astype(np.int64)
    roots = (observed @ (model.root_finding > 0.0).T.astype(np.int64) > 0).sum(axis=1)
    assert (present + roots > kernel_np.MAX_BITS).any()
    # And rows with more present findings than MAX_BITS, when few are in play at any one step.
    assert (present > kernel_np.MAX_BITS).any()


def test_small_batches_run_in_numpy_until_the_compiled_kernel_pays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The estimate by hand: a row with one present finding and no root involved has a state of
    # 2 entries per condition; 30 rows cost 30 * (NUMPY_ROW_SECONDS + 2n * NUMPY_ENTRY_SECONDS).
    model = default_engine().model
    monkeypatch.setattr(exact, "_compiled", None)
    monkeypatch.setattr(exact, "_numpy_seconds", 0.0)
    unlinked = [
        f
        for j, f in enumerate(model.finding_ids)
        if model.condition_finding[:, j].any() and not model.root_finding[:, j].any()
    ]
    _, narrow = encode_evidence(model, [(Person(age=40), {unlinked[0]: True})] * 30)
    assert exact._kernel(*exact._kernel_shape(model, narrow)) is kernel_np.batch
    each = exact.NUMPY_ROW_SECONDS + 2 * model.n_conditions * exact.NUMPY_ENTRY_SECONDS
    assert exact._numpy_seconds == pytest.approx(30 * each)
    # One heavy batch (a thousand rows of fourteen present findings: about 0.55 s of numpy
    # work by the same estimate) goes compiled at once.
    linked = [model.finding_ids[j] for j in np.flatnonzero(model.condition_finding.any(axis=0))]
    wide = dict.fromkeys(linked[:14], True)
    _, heavy = encode_evidence(model, [(Person(age=40), wide)] * 1000)
    entries = exact._kernel_shape(model, heavy)[1]
    estimate = 1000 * exact.NUMPY_ROW_SECONDS + entries.sum() * exact.NUMPY_ENTRY_SECONDS
    assert estimate > exact.COMPILED_AFTER
    assert exact._kernel(*exact._kernel_shape(model, heavy)) is not kernel_np.batch
    assert exact._kernel(*exact._kernel_shape(model, narrow)) is exact._compiled


def test_one_assessment_never_loads_the_compiler() -> None:
    probe = (
        "import sys\n"
        "from kneesource.cli import main\n"
        f"code = main(['assess', {str(EXAMPLES / 'back_and_knee_68f.json')!r}, '--json'])\n"
        "print(code, 'numba' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stderr.split()[-2:] == ["0", "False"], done.stderr
    assert json.loads(done.stdout)["conditions"], "the assessment itself was printed"
