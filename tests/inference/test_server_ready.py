"""Ready for a server: the serial and parallel kernels stay distinct across processes (the
on-disk cache once served one compiled loop to both), concurrent assessments from threads give
exactly the serial results, and threads that launch parallel work at once do not abort the
process on numba's own threading layer."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from kneesource.engine import default_engine
from kneesource.inference.exact import load_compiled

PROBE = r"""
import numpy as np
from kneesource.inference.exact import encode_evidence, _kernel_model
from kneesource.inference import kernel
from numba.np.ufunc import parallel
from kneesource.engine import default_engine
from kneesource.model.compiled import Person
m = default_engine().model
priors, ev = encode_evidence(m, [(Person(age=40), {m.finding_ids[0]: True})])
b, n, r = 1, m.n_conditions, len(m.root_ids)
for fn in (kernel.serial_kernel, kernel.parallel_kernel):
    fn(priors, *_kernel_model(m), ev, np.zeros((b, n)), np.zeros((b, r)), np.zeros((b, 5)),
       np.zeros(b), np.zeros(b, dtype=np.bool_))
    # The threading layer starts only when code compiled for ``parallel`` is loaded and run.
    print(fn.py_func.__name__, parallel._is_initialized)
"""


def test_serial_and_parallel_kernels_stay_distinct_in_later_processes() -> None:
    # The first run may compile and cache; the second loads both from the cache.
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=600, check=True
        ).stdout.split()
        assert out == ["_batch_serial_py", "False", "_batch_parallel_py", "True"], out


def test_threads_give_the_serial_results() -> None:
    load_compiled()  # as a server does at start-up: both runs on the compiled kernel
    engine = default_engine()
    model = engine.model
    rng = np.random.default_rng(5)
    cases = []
    for i in range(48):
        ids = rng.choice(len(model.finding_ids), size=int(rng.integers(1, 14)), replace=False)
        findings = {model.finding_ids[j]: bool(rng.random() < 0.4) for j in ids}
        if i % 8 == 0:  # some wide enough for bucket elimination
            linked = np.flatnonzero(model.condition_finding.any(axis=0))
            findings.update(
                {model.finding_ids[j]: True for j in rng.choice(linked, 20, replace=False)}
            )
        cases.append(engine.case({"age": int(rng.integers(1, 95)), "findings": findings}))
    serial = [engine.assess(c).to_dict() for c in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda c: engine.assess(c).to_dict(), cases))
    assert threaded == serial


THREADED = r"""
from concurrent.futures import ThreadPoolExecutor
import numba
import numpy as np
from kneesource.engine import default_engine
from kneesource.inference.exact import load_compiled, posterior_batch
from kneesource.model.compiled import Person
load_compiled()
model = default_engine().model
linked = [model.finding_ids[int(f)] for f in np.flatnonzero(model.condition_finding.any(0))]
# Batches of 300 rows: each runs on worker threads.
batches = [[(Person(age=20 + k), {linked[(i + k) % 60]: True}) for i in range(300)]
           for k in range(4)]
serial = [[p.conditions.tolist() for p in posterior_batch(model, b)] for b in batches]
with ThreadPoolExecutor(max_workers=4) as pool:
    for _ in range(3):
        got = list(pool.map(lambda b: [p.conditions.tolist() for p in posterior_batch(model, b)],
                            batches))
        assert got == serial
print(numba.threading_layer())
"""


def test_threads_launching_parallel_work_are_safe_on_numbas_own_threading_layer() -> None:
    # Where no OpenMP or TBB runtime is installed numba falls back to its work queue, which
    # aborts the process when two threads launch parallel work at once (a server's thread
    # pool); launches take turns (inference.threads), so the threads finish with the serial
    # results. Without the lock this process is killed by SIGABRT.
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    done = subprocess.run(
        [sys.executable, "-c", THREADED], capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["workqueue"]


FORKED = r"""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
import numpy as np
from kneesource.commands.core import _worker_start
from kneesource.engine import default_engine
from kneesource.inference.exact import load_compiled, posterior_batch
from kneesource.model.compiled import Person
load_compiled()
model = default_engine().model
linked = [model.finding_ids[int(f)] for f in np.flatnonzero(model.condition_finding.any(0))]
cases = [(Person(age=40), {linked[i % 50]: True}) for i in range(300)]
posterior_batch(model, cases)  # a batch on worker threads: the threading layer starts here

def child(_):
    return len(posterior_batch(model, cases))

context = multiprocessing.get_context("fork")
with ProcessPoolExecutor(2, mp_context=context, initializer=_worker_start) as pool:
    print(sum(pool.map(child, range(4))))
"""


def test_batch_workers_forked_after_threaded_work_run_serially() -> None:
    # A program that has scored a big batch (so OpenMP's threads have started) and then scores a
    # file: the worker processes it forks run everything on their own thread. With GNU OpenMP,
    # numba terminates a forked process that launches parallel work ("fork() called from a
    # process already using GNU OpenMP"), which took the batch down with BrokenProcessPool.
    done = subprocess.run(
        [sys.executable, "-c", FORKED], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1200"]


def test_an_engine_and_its_caches_go_when_it_is_dropped() -> None:
    # Every cache (question bank, plans of the interview and of bucket elimination, quick
    # triage) lives on the engine or its model, so nothing keeps a dropped engine alive.
    import gc
    import weakref

    from kneesource.engine import Engine
    from kneesource.interview import next_question, start

    engine = Engine.from_directory()
    state = start(engine)
    assert next_question(state) is not None
    model = engine.model
    oa = model.condition_ids.index("knee_osteoarthritis")
    shared = [model.finding_ids[i] for i in np.flatnonzero(model.condition_finding[oa])][:20]
    engine.assess(engine.case({"age": 60, "findings": dict.fromkeys(shared, True)}))
    gone = weakref.ref(engine)
    model_gone = weakref.ref(model)
    del engine, state, model
    gc.collect()
    assert gone() is None and model_gone() is None


WARM_PROBE = r"""
import sys, tempfile
from kneesource.inference import junction, kernel
kernels = [*junction._compiled(), kernel.serial_kernel, kernel.parallel_kernel]
print(all(k.signatures for k in kernels), any(k.signatures for k in kernels))
from kneesource.web.app import create_app
with tempfile.TemporaryDirectory() as d:
    create_app(f"sqlite:///{d}/k.db")
print(all(k.signatures for k in kernels), any(k.signatures for k in kernels))
"""


INSTALL_PROBE = r"""
from kneesource.engine import default_engine
from kneesource.inference import exact, junction, kernel
kernels = [*junction._compiled(), kernel.serial_kernel, kernel.parallel_kernel]
print(any(k.signatures for k in kernels))
exact.warm_up(default_engine().model)
print(all(k.signatures for k in kernels))
"""


def test_the_install_warm_up_compiles_every_kernel() -> None:
    # scripts/setup runs exact.warm_up so that the on-disk cache holds every kernel before
    # anyone waits; a kernel it does not call is compiled later, in some process's first use.
    out = subprocess.run(
        [sys.executable, "-c", INSTALL_PROBE],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout.split()
    assert out == ["False", "True"], out


def test_a_server_loads_every_compiled_kernel_before_the_first_person_waits() -> None:
    # A kernel's first call in a process links the cached machine code (about 0.3 s for bucket
    # elimination's), or compiles it when the on-disk cache is empty: the threaded batch kernel,
    # first used by an interview scoring 256 answers at once, held one answer for 4.6 s in a
    # new checkout. The server's start-up makes every first call, so no answer does.
    out = subprocess.run(
        [sys.executable, "-c", WARM_PROBE], capture_output=True, text=True, timeout=600, check=True
    ).stdout.split()
    assert out == ["False", "False", "True", "True"], out
