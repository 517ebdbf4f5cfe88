"""End to end, as a user calls it: `kneesource assess FILE` on whole files, side by side with
pyAgrum's bare posterior on the same cases.

Three files of the same people (drawn from the model, ages 5-89):
* typical: 3 to 8 answers each, as a person gives in a short interview;
* fully answered: the example cases with every other finding answered "no" (about 5 KB a line:
  by default 10,620 of them, a file of about 64 MB like the 50 MB file a new user tried);
* the typical file written as Parquet.
kneesource's figure is the wall time of the command in a fresh process, start-up included (about
a second: importing, loading the engine, and each worker process loading the compiled kernel
on its first chunk, so a small file reads slower than a big one), with
explanations (JSON Lines out) and without (a Parquet result table), and its peak memory.
pyAgrum's is LazyPropagation's posterior of every condition and root, nothing else (no
explanations, no triage, no output), timed on a sample of the same cases and scaled, and checked
against kneesource's. A fully answered case makes pyAgrum's junction tree hold tables of many
conditions at once: one took 4 minutes and 11 GB on a 2-core machine, so pyAgrum runs them
only when asked (--pyagrum-full-sample N), and the table says "out of memory" if it runs out.
Run:
    .venv/bin/python -m bench.batch_bench [--typical N] [--full N] [--pyagrum-sample N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from kneesource.engine import default_engine
from kneesource.evaluation.simulator import sample_states
from kneesource.inference.exact import posterior
from kneesource.model.bif import complaint_leak, impossible, posteriors_by_conditioning, to_bif
from kneesource.model.compiled import Person

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def typical_cases(n: int, rng: np.random.Generator) -> list[dict]:
    model = default_engine().model
    ids = [f for f in model.finding_ids if f not in model.evidence_skipped]
    column = {f: i for i, f in enumerate(model.finding_ids)}
    out = []
    for i in range(n):
        age = int(rng.integers(5, 90))
        _, _, states = sample_states(model, model.priors(Person(age=age))[None, :], rng)
        chosen = rng.choice(len(ids), size=int(rng.integers(3, 9)), replace=False)
        findings = {ids[j]: bool(states[0, column[ids[j]]]) for j in chosen}
        out.append({"id": f"t{i}", "age": age, "findings": findings})
    return out


def fully_answered_cases(n: int) -> list[dict]:
    model = default_engine().model
    examples = [
        json.loads(line) for line in (EXAMPLES / "three_cases.jsonl").read_text().splitlines()
    ]
    everything = {f: False for f in model.finding_ids if f not in model.evidence_skipped}
    return [
        {
            **examples[i % 3],
            "id": f"f{i}",
            "findings": {**everything, **examples[i % 3]["findings"]},
        }
        for i in range(n)
    ]


# Runs the command and reports its own peak memory and its worker processes' (a figure taken
# from outside would also count the memory of this process, copied at fork before exec).
CHILD = """
import atexit, resource, sys
def report():
    # VmHWM: this process's own peak since exec (ru_maxrss would keep the peak of the parent
    # it was forked from); the workers' peak comes from their resource usage.
    own = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                own = int(line.split()[1])
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"PEAK {max(own, workers)}\\n")
atexit.register(report)
from kneesource.cli import main
sys.argv = ["kneesource", *sys.argv[1:]]
main()
"""


def run_assess(source: Path, target: Path | None) -> tuple[float, float]:
    """Wall seconds and peak GB (of the process or any one worker) of `kneesource assess`."""
    args = [sys.executable, "-c", CHILD, "assess", str(source)]
    args += ["-o", str(target)] if target is not None else ["--json"]
    start = time.perf_counter()
    done = subprocess.run(
        args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - start
    peaks = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK ")]
    return wall, max(peaks) / 1e6


def pyagrum_rate(cases: list[dict], sample: int) -> float:
    """Cases per second of pyAgrum's posterior (conditions and roots) on a sample of the cases.

    pyAgrum runs the network without the complaint's chain, which ties the conditions together,
    and applies the complaint as kneesource does, by conditioning: a second run with every
    condition absent gives P(no condition | findings) and the roots in that case
    (``bif.posteriors_by_conditioning``). Both runs are timed, and the result is checked against
    kneesource's posterior. Like kneesource's tables, pyAgrum is told which conditions the
    person cannot have (``bif.impossible``: their prior is zero, so this changes no probability
    and lets its junction tree leave them out)."""
    import pyagrum as gum

    model = default_engine().model
    targets = [*model.condition_ids, *model.root_ids]
    nets: dict[bytes, tuple[Any, Any, float]] = {}  # one network per row of priors
    total, done, worst = 0.0, 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases[:sample]:
            person = Person(age=case["age"])
            key = model.priors(person).tobytes()  # by age band, and by year in children
            if key not in nets:  # parsing and set-up are not timed
                path = Path(tmp) / f"{len(nets)}.bif"
                path.write_text(to_bif(model, person, complaint=False))
                bn = gum.loadBN(str(path))
                full, none = gum.LazyPropagation(bn), gum.LazyPropagation(bn)
                full.setTargets(set(targets))
                none.setTargets(set(model.root_ids))
                nets[key] = (full, none, complaint_leak(model, person))
            full, none, leak = nets[key]
            findings = {
                k: v for k, v in case["findings"].items() if k not in model.evidence_skipped
            }
            cannot = dict.fromkeys(impossible(model, person), False)
            start = time.perf_counter()
            conditions, roots = posteriors_by_conditioning(
                model, leak, full, none, {**findings, **cannot}
            )
            total += time.perf_counter() - start
            done += 1
            ours = posterior(model, person, findings)
            worst = max(
                worst,
                float(np.abs(ours.conditions - conditions).max()),
                float(np.abs(ours.roots - roots).max()),
            )
    if worst > 1e-6:
        raise SystemExit(f"pyAgrum and kneesource disagree by {worst:.2g}")
    return done / total


def _rate(cases_per_second: float | str) -> str:
    if isinstance(cases_per_second, str):
        return cases_per_second
    return f"{cases_per_second:,.0f}" if cases_per_second >= 10 else f"{cases_per_second:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--typical", type=int, default=100000)
    parser.add_argument("--full", type=int, default=10620)
    parser.add_argument("--pyagrum-sample", type=int, default=200, help="typical cases")
    parser.add_argument(
        "--pyagrum-full-sample",
        type=int,
        default=0,
        help="fully answered cases for pyAgrum (minutes and 11 GB each)",
    )
    args = parser.parse_args()
    console = Console()
    rng = np.random.default_rng(20261205)
    import pandas as pd

    rows = []
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console, transient=True) as bar:
        task = bar.add_task("end to end", total=6)
        folder = Path(tmp)
        typical, full = typical_cases(args.typical, rng), fully_answered_cases(args.full)
        files = {}
        for name, cases in (("typical", typical), ("fully answered", full)):
            path = folder / f"{name.replace(' ', '_')}.jsonl"
            path.write_text("".join(json.dumps(c) + "\n" for c in cases))
            files[name] = (path, cases)
        for name, (path, cases) in files.items():
            size = path.stat().st_size / 1e6
            explained, peak1 = run_assess(path, None)
            bar.advance(task)
            table_s, peak2 = run_assess(path, folder / "out.parquet")
            bar.advance(task)
            sample = args.pyagrum_sample if name == "typical" else args.pyagrum_full_sample
            theirs: float | str = "not run"
            if sample:
                try:
                    theirs = pyagrum_rate(cases, sample)
                except Exception as error:  # pyAgrum says std::bad_alloc when out of memory
                    if "bad_alloc" not in str(error):
                        raise
                    theirs = "out of memory"
            bar.advance(task)
            rows.append((name, len(cases), size, explained, table_s, max(peak1, peak2), theirs))
        parquet = folder / "typical.parquet"
        wide = pd.DataFrame(
            [{"id": c["id"], "age": c["age"], **c["findings"]} for c in typical]
        ).astype({f: "boolean" for c in typical for f in c["findings"]})
        wide.to_parquet(parquet)
        parquet_s, parquet_peak = run_assess(parquet, folder / "out.parquet")

    table = Table(
        title="assess end to end (fresh process, start-up included) vs pyAgrum's bare posterior"
    )
    for col in (
        "file",
        "cases",
        "MB",
        "explained: cases/s",
        "table: cases/s",
        "peak GB",
        "pyAgrum posterior: cases/s",
        "table vs pyAgrum",
    ):
        table.add_column(col, justify="left" if col == "file" else "right")
    for name, n, size, explained, table_s, peak, theirs in rows:
        table.add_row(
            name,
            f"{n:,}",
            f"{size:.1f}",
            f"{n / explained:,.0f}",
            f"{n / table_s:,.0f}",
            f"{peak:.2f}",
            _rate(theirs),
            "-" if isinstance(theirs, str) else f"{n / table_s / theirs:,.0f}x",
        )
    console.print(table)
    console.print(
        f"typical cases from Parquet into a Parquet table: "
        f"{args.typical / parquet_s:,.0f} cases/s, "
        f"peak {parquet_peak:.2f} GB"
    )
    console.print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
