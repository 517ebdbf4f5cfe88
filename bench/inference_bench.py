"""Exact inference speed: kneesource vs pgmpy VariableElimination vs pyAgrum LazyPropagation.

All three answer the same question on the same evidence sets: the posterior of every condition and
every nerve root of the full shipped network, for patients sampled from the model with 3, 8 and 15
findings observed. The largest difference between the engines' answers is printed as a check that
they did the same work. Run:  .venv/bin/python -m bench.inference_bench [--sets N] [--pgmpy-sets N]
"""

from __future__ import annotations

import os

# pyAgrum's OpenMP worker threads otherwise spin after each inference and take the cores that
# kneesource's parallel batch runs on; passive waiting changes nothing in pyAgrum's own timings.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from kneesource.engine import default_engine
from kneesource.evaluation.simulator import sample_states
from kneesource.inference.exact import posterior, posterior_batch
from kneesource.model.bif import evidence as bif_evidence
from kneesource.model.bif import to_bif
from kneesource.model.compiled import CompiledModel, Person

SIZES = (3, 8, 15)
# (observed findings, positives first?) for each row of the table.
SCHEMES = [(n, False) for n in SIZES] + [(8, True), (15, True)]


def sample_evidence(
    model: CompiledModel,
    person: Person,
    rng: np.random.Generator,
    n_observed: int,
    positives_first: bool = False,
) -> dict[str, bool]:
    """A patient drawn from the model, with ``n_observed`` of their findings revealed: at random,
    or (``positives_first``) their present findings first, as a clinician records positives."""
    _, _, findings = sample_states(model, model.priors(person)[None, :], rng)
    order = rng.permutation(len(model.finding_ids))
    if positives_first:
        order = order[np.argsort(~findings[0, order], kind="stable")]
    return {model.finding_ids[i]: bool(findings[0, i]) for i in order[:n_observed]}


def _time(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _pyagrum(path: Path, model: CompiledModel) -> Callable[[dict[str, bool]], np.ndarray]:
    import pyagrum as gum

    bn = gum.loadBN(str(path))
    engine = gum.LazyPropagation(bn)
    targets = [*model.condition_ids, *model.root_ids]
    # Its best configuration: with only these targets it prunes the unobserved (barren) findings.
    engine.setTargets(set(targets))

    def infer(evidence: dict[str, bool]) -> np.ndarray:
        engine.eraseAllEvidence()
        engine.setEvidence(bif_evidence(evidence))
        engine.makeInference()
        return np.array([engine.posterior(t)[:][1] for t in targets])

    return infer


def _pgmpy(path: Path, model: CompiledModel) -> Callable[[dict[str, bool]], np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.inference import VariableElimination
        from pgmpy.readwrite import BIFReader

        network = BIFReader(str(path)).get_model()
    engine = VariableElimination(network)
    targets = [*model.condition_ids, *model.root_ids]

    def infer(evidence: dict[str, bool]) -> np.ndarray:
        states = {k: "present" if v else "absent" for k, v in evidence.items()}
        out = []
        for t in targets:
            f = engine.query([t], evidence=states, show_progress=False)
            out.append(f.values[f.state_names[t].index("present")])
        return np.array(out)

    return infer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", type=int, default=200, help="evidence sets per size")
    parser.add_argument("--pgmpy-sets", type=int, default=5, help="evidence sets per size (pgmpy)")
    parser.add_argument("--batch", type=int, default=20000, help="cases in the batch run")
    args = parser.parse_args()

    console = Console()
    model = default_engine().model
    person = Person(age=52, sex="female")
    rng = np.random.default_rng(2026)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kneesource.bif"
        path.write_text(to_bif(model, person))
        engines = {"pyAgrum LazyPropagation": _pyagrum(path, model)}
        engines["pgmpy VariableElimination"] = _pgmpy(path, model)

        rows = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("timing", total=len(SCHEMES) * args.sets)
            for size, positives in SCHEMES:
                sets = [
                    sample_evidence(model, person, rng, size, positives) for _ in range(args.sets)
                ]
                present = statistics.median(sum(e.values()) for e in sets)
                ours, theirs, diff = [], {k: [] for k in engines}, 0.0
                for i, ev in enumerate(sets):
                    post = posterior(model, person, ev)
                    mine = np.concatenate([post.conditions, post.roots])
                    ours.append(_time(lambda ev=ev: posterior(model, person, ev), repeat=3))
                    for name, infer in engines.items():
                        if name.startswith("pgmpy") and i >= args.pgmpy_sets:
                            continue
                        theirs[name].append(_time(lambda ev=ev, f=infer: f(ev)))
                        diff = max(diff, float(np.abs(infer(ev) - mine).max()))
                    progress.advance(task)
                label = f"{size}{' (positives first)' if positives else ''}"
                rows.append((label, present, ours, theirs, diff))

        batch_sets = [
            (person, sample_evidence(model, person, rng, int(rng.choice(SIZES))))
            for _ in range(args.batch)
        ]
        posterior_batch(model, batch_sets[:200])  # warm-up
        batch_s = _time(lambda: posterior_batch(model, batch_sets))

    table = Table(title="Posterior of all conditions and roots, full network (median ms per case)")
    table.add_column("observed findings")
    table.add_column("median present")
    table.add_column("kneesource", justify="right")
    for name in engines:
        table.add_column(name, justify="right")
        table.add_column("speed-up", justify="right")
    table.add_column("max |diff|", justify="right")
    for size, present, ours, theirs, diff in rows:
        mine = statistics.median(ours) * 1e3
        cells = [size, f"{present:g}", f"{mine:.3f}"]
        for name in engines:
            other = statistics.median(theirs[name]) * 1e3
            cells += [f"{other:.2f} (n={len(theirs[name])})", f"{other / mine:.0f}x"]
        cells.append(f"{diff:.1e}")
        table.add_row(*cells)
    console.print(table)
    all_ours = [t for row in rows[: len(SIZES)] for t in row[2]]
    console.print(
        "kneesource single case, random-reveal rows: median "
        f"{statistics.median(all_ours) * 1e3:.3f} ms, "
        f"90th percentile {np.percentile(all_ours, 90) * 1e3:.3f} ms"
    )
    console.print(
        f"kneesource batch: {args.batch} cases (sizes mixed) in {batch_s:.2f} s = "
        f"{args.batch / batch_s:,.0f} cases/s"
    )
    console.print(
        f"network: {model.n_conditions} conditions, {len(model.root_ids)} roots, "
        f"{len(model.finding_ids)} findings; machine: {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
