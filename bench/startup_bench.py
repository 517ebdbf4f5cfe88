"""Start-up, as a person calls it: `kneesource assess CASE --json` for one case, each run in a
fresh process, side by side with pyAgrum doing the least it can for the same case in a fresh
process (import, read the exported network, one LazyPropagation posterior of every condition).

Rows:
* warm: the engine cache and the compiler's cache both filled by an earlier run;
* no engine cache: the knowledge files are read and checked again (the first run after an
  install or an update);
* cold: no engine cache and an empty compiler cache (nothing kept from any earlier run);
* a batch file of 3 cases, warm (it also stays on the numpy kernel);
* pyAgrum, for the same example case, with the conditions as its targets.
Wall time is the median of --runs runs (at most 3 for pyAgrum, whose run takes tens of seconds
on this case) and the slowest; memory is the peak resident set of the process. Run:
    .venv/bin/python -m bench.startup_bench [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kneesource.engine import default_engine
from kneesource.model.bif import to_bif
from kneesource.model.compiled import Person

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CASE = EXAMPLES / "back_and_knee_68f.json"

PYAGRUM = r"""
import json, sys
import pyagrum as gum
case = json.load(open(sys.argv[2]))
bn = gum.loadBN(sys.argv[1])
ie = gum.LazyPropagation(bn)
targets = sys.argv[3].split(",")
ie.setTargets(set(targets))
names = set(bn.names())
ie.setEvidence({"knee_region_pain": "present",  # the complaint, as kneesource conditions on it
               **{f: ("present" if v else "absent") for f, v in case["findings"].items()
                  if f in names}})
ie.makeInference()
print(sum(ie.posterior(c)[1] for c in targets))
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one run of ``command`` in a fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{command} failed with status {status}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    console = Console()
    kneesource = [sys.executable, "-m", "kneesource", "assess"]
    rows: list[tuple[str, list[tuple[float, float]]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = dict(os.environ, KNEESOURCE_CACHE_DIR=str(Path(tmp) / "engines"))

        def fresh(i: int, compiler: bool) -> dict[str, str]:
            """Empty caches: the engine's, and with ``compiler`` the compiler's too."""
            env = dict(base, KNEESOURCE_CACHE_DIR=str(Path(tmp) / f"engines-{i}"))
            if compiler:
                env["NUMBA_CACHE_DIR"] = str(Path(tmp) / f"numba-{i}")
            return env

        one = [*kneesource, str(CASE), "--json"]
        three = [*kneesource, str(EXAMPLES / "three_cases.jsonl"), "--json"]
        timed(one, base)  # fill the engine cache (and the compiler's, for the batch row)
        runs = range(args.runs)
        rows.append(("one case, warm", [timed(one, base) for _ in runs]))
        rows.append(("one case, no engine cache", [timed(one, fresh(i, False)) for i in runs]))
        cold = [timed(one, fresh(100 + i, True)) for i in runs]
        rows.append(("one case, cold (no cache at all)", cold))
        rows.append(("3 cases (.jsonl), warm", [timed(three, base) for _ in runs]))

        engine = default_engine()
        case = json.loads(CASE.read_text())
        bif = Path(tmp) / "net.bif"
        bif.write_text(to_bif(engine.model, Person(age=case["age"], sex=case.get("sex"))))
        targets = ",".join(engine.model.condition_ids)
        pyagrum = [sys.executable, "-c", PYAGRUM, str(bif), str(CASE), targets]
        try:
            slow = range(min(args.runs, 3))  # tens of seconds a run for this case
            rows.append(("pyAgrum: one case, bare posterior", [timed(pyagrum, base) for _ in slow]))
        except SystemExit as exc:
            console.print(f"[yellow]pyAgrum row skipped: {exc}[/yellow]")

    table = Table(
        title=f"Start-up of one assessment, fresh process each run ({platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {args.runs} runs)"
    )
    for column in ("run", "median s", "slowest s", "peak MB"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, results in rows:
        walls = [w for w, _ in results]
        table.add_row(
            name,
            f"{statistics.median(walls):.2f}",
            f"{max(walls):.2f}",
            f"{max(m for _, m in results):.0f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
