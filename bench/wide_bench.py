"""Worst cases of exact inference: many present findings, side by side with pyAgrum.

Each row is one evidence set on the shipped network (a woman of 58): present findings that all
share one parent (knee osteoarthritis), random ones, and the findings with the most causes (the
hardest evidence the vocabulary allows), up to every linked finding present; and the hardest 40
for a boy of 6, whose tables also hold the conditions of childhood (``prior.ages``). For each,
in a fresh process so that peak memory is its own: kneesource's posterior (conditions, roots,
sources), the whole ``assess`` as a user calls it (posterior, an explanation per observed
finding when within budget, triage), and pyAgrum's LazyPropagation posterior of conditions and
roots, given as kneesource is the conditions the person cannot have (``bif.impossible``). A
process is limited to 12 GB and 300 s; beyond either the cell says so. Run:
    .venv/bin/python -m bench.wide_bench
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from kneesource.engine import default_engine

LIMIT_BYTES = 12 << 30
LIMIT_S = 300

CHILD = r"""
import json, resource, sys, time, tempfile
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from kneesource.engine import default_engine
from kneesource.inference.exact import posterior
from kneesource.model.compiled import Person
what, ids = sys.argv[1], json.loads(sys.argv[2])
age, sex = int(sys.argv[3]), sys.argv[4]
engine = default_engine()
model = engine.model
person = Person(age=age, sex=sex)
evidence = dict.fromkeys(ids, True)
out = {{}}
if what == "kneesource":
    from kneesource.inference.exact import warm_up
    warm_up(model)  # loads every compiled kernel, as a server does at start-up
    start = time.perf_counter(); posterior(model, person, evidence)
    out["posterior_s"] = time.perf_counter() - start
    case = engine.case({{"age": age, "sex": sex, "findings": evidence}})
    start = time.perf_counter(); a = engine.assess(case)
    out["assess_s"] = time.perf_counter() - start
    out["explained"] = a.explained
else:
    import pyagrum as gum
    from kneesource.model.bif import evidence as evidence_for, impossible, to_bif
    path = Path(tempfile.mkdtemp()) / "m.bif"
    path.write_text(to_bif(model, person))
    bn = gum.loadBN(str(path))
    start = time.perf_counter()
    ie = gum.LazyPropagation(bn)
    ie.setTargets({{*model.condition_ids, *model.root_ids}})
    ie.setEvidence({{**evidence_for(dict.fromkeys(evidence, True)), **impossible(model, person)}})
    ie.makeInference()
    [ie.posterior(t)[:] for t in (*model.condition_ids, *model.root_ids)]
    out["posterior_s"] = time.perf_counter() - start
out["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print(json.dumps(out))
"""


def _run(what: str, ids: list[str], age: int, sex: str) -> dict[str, object]:
    code = CHILD.format(limit=LIMIT_BYTES)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, what, json.dumps(ids), str(age), sex],
            capture_output=True,
            text=True,
            timeout=LIMIT_S,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"over {LIMIT_S} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": "out of memory" if "MemoryError" in last else last[:40]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def evidence_sets() -> list[tuple[str, list[str], int, str]]:
    model = default_engine().model
    linked = (model.condition_finding > 0).sum(axis=0) + (model.root_finding > 0).sum(axis=0)
    by_causes = [model.finding_ids[i] for i in np.argsort(-linked, kind="stable") if linked[i]]
    oa = model.condition_ids.index("knee_osteoarthritis")
    shared = [model.finding_ids[i] for i in np.flatnonzero(model.condition_finding[oa])]
    rng = np.random.default_rng(20261205)
    random40 = [by_causes[i] for i in rng.choice(len(by_causes), size=40, replace=False)]
    woman = [
        ("20 sharing one parent", shared[:20]),
        (f"{len(shared)} sharing one parent (all)", shared),
        ("40 at random", random40),
        ("25 with most causes", by_causes[:25]),
        ("40 with most causes", by_causes[:40]),
        (f"every linked finding ({len(by_causes)})", by_causes),
    ]
    return [(name, ids, 58, "female") for name, ids in woman] + [
        ("40 with most causes, a boy of 6", by_causes[:40], 6, "male")
    ]


def _cell(result: dict[str, object], key: str) -> str:
    if "error" in result:
        return str(result["error"])
    value = result[key]
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> None:
    console = Console()
    rows = []
    sets = evidence_sets()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("worst cases", total=2 * len(sets))
        for name, ids, age, sex in sets:
            ours = _run("kneesource", ids, age, sex)
            progress.advance(task)
            theirs = _run("pyagrum", ids, age, sex)
            progress.advance(task)
            rows.append((name, ours, theirs))
    table = Table(title="Many present findings: seconds and peak GB per case (fresh process)")
    for column in (
        "present findings",
        "kneesource posterior s",
        "kneesource assess s",
        "explained",
        "kneesource peak GB",
        "pyAgrum posterior s",
        "pyAgrum peak GB",
    ):
        table.add_column(column, justify="left" if column == "present findings" else "right")
    for name, ours, theirs in rows:
        table.add_row(
            name,
            _cell(ours, "posterior_s"),
            _cell(ours, "assess_s"),
            _cell(ours, "explained"),
            _cell(ours, "peak_gb"),
            _cell(theirs, "posterior_s"),
            _cell(theirs, "peak_gb"),
        )
    console.print(table)
    console.print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}; limits per process: {LIMIT_BYTES >> 30} GB, {LIMIT_S} s"
    )


if __name__ == "__main__":
    main()
