"""``kneesource evaluate``: score the engine on the vignettes and write a report with figures."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kneesource.commands.base import EXIT_OK
from kneesource.engine import Engine, default_engine
from kneesource.evaluation.external import coverage, load_external
from kneesource.evaluation.external_report import COLUMN_TITLES as EXTERNAL_TITLES
from kneesource.evaluation.external_report import (
    NOTE,
    coverage_rows,
    external_rows,
    write_external_report,
)
from kneesource.evaluation.external_run import interview_external, run_external, summarise_external
from kneesource.evaluation.report import COLUMN_TITLES, SimulationRow, summary_rows, write_report
from kneesource.evaluation.runner import (
    Outcome,
    Summary,
    run,
    run_posteriors,
    simulated_truth,
    summarise,
    vignette_truth,
)
from kneesource.evaluation.simulator import Observation, simulate
from kneesource.evaluation.vignettes import Split, Vignette, load_vignettes

SPLIT_CHOICES: dict[str, Split | None] = {"tune": "tune", "held-out": "held_out", "all": None}


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score kneesource on the clinical vignettes and write a report with figures",
        description="Score kneesource on the clinical vignettes shipped with it (top-1/top-3 "
        "accuracy, pain source, nerve root, triage, calibration) and write report.md with PNG "
        "figures. Held-out vignettes are for scoring only, never for tuning.",
    )
    p.add_argument(
        "--set",
        dest="case_set",
        choices=("own", "external"),
        default="own",
        help="own: the vignettes written with the knowledge base; external: published case "
        "reports extracted blind (default: own)",
    )
    p.add_argument(
        "--no-interview",
        action="store_true",
        help="with --set external, skip running the interview on each case",
    )
    p.add_argument(
        "--split",
        choices=sorted(SPLIT_CHOICES),
        default="all",
        help="which vignettes to score (default: all, reported per split)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("evaluation-report"),
        help="folder for report.md and the figures (default: ./evaluation-report)",
    )
    p.add_argument("--vignettes", type=Path, default=None, help="a folder of vignette YAML files")
    p.add_argument(
        "--simulated",
        type=int,
        default=0,
        metavar="N",
        help="also score N synthetic patients drawn from the model (0: skip)",
    )
    p.add_argument("--noise-flip", type=float, default=0.1, help="share of answers flipped")
    p.add_argument("--noise-unknown", type=float, default=0.2, help="share of answers dropped")
    p.add_argument("--max-present", type=int, default=8, help="present findings kept per patient")
    p.add_argument("--seed", type=int, default=1, help="seed for the synthetic patients")
    p.set_defaults(handler=evaluate)


@contextmanager
def progress_bar(console: Console, total: int, what: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal; silent otherwise (logs and pipes stay clean)."""
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(what, total=total)
        yield lambda k: progress.advance(task, k)


def _summaries(outcomes: Sequence[Outcome]) -> dict[str, Summary]:
    present = {o.truth.label for o in outcomes}
    labels = [label for label in ("tune", "held_out") if label in present]
    out: dict[str, Summary] = {
        label: summarise([o for o in outcomes if o.truth.label == label]) for label in labels
    }
    if len(labels) > 1:
        out["all"] = summarise(outcomes)
    return out


def _simulation_rows(
    engine: Engine, args: argparse.Namespace, console: Console
) -> list[SimulationRow]:
    settings = [(0.0, 0.0)]
    if args.noise_flip or args.noise_unknown:
        settings.append((args.noise_flip, args.noise_unknown))
    rows = []
    for flip, unknown in settings:
        observation = Observation(flip=flip, unknown=unknown, max_present=args.max_present)
        patients = simulate(engine.model, args.simulated, args.seed, observation=observation)
        truths = [simulated_truth(engine, p, f"sim{i}") for i, p in enumerate(patients)]
        with progress_bar(console, len(truths), f"synthetic, noise {flip}/{unknown}") as adv:
            outcomes = run_posteriors(engine, truths, adv)
        rows.append(SimulationRow(flip, unknown, summarise(outcomes)))
    return rows


def evaluate(args: argparse.Namespace, out: Console) -> int:
    if args.case_set == "external":
        return evaluate_external(args, out)
    started = time.perf_counter()
    engine = default_engine()
    vignettes: Sequence[Vignette] = load_vignettes(engine.kb, args.vignettes).split(
        SPLIT_CHOICES[args.split]
    )
    truths = [vignette_truth(v) for v in vignettes]
    with progress_bar(out, len(truths), "vignettes") as advance:
        outcomes = run(engine, truths, advance)
    summaries = _summaries(outcomes)
    simulation = _simulation_rows(engine, args, out) if args.simulated > 0 else []
    seconds = time.perf_counter() - started
    files = write_report(
        args.out,
        outcomes,
        summaries,
        knowledge_base_version=engine.kb.version,
        seconds=seconds,
        simulation=simulation,
    )
    table = Table(title=f"kneesource on {len(outcomes)} vignettes ({seconds:.1f} s)")
    table.add_column("metric")
    for key in summaries:
        table.add_column(COLUMN_TITLES.get(key, key), justify="right")
    for name, cells in summary_rows(summaries):
        table.add_row(name, *cells)
    out.print(table)
    for row in simulation:
        out.print(
            f"synthetic patients (flip {row.flip:.0%}, unknown {row.unknown:.0%}): "
            f"top-1 {row.summary.top1:.1%}, top-3 {row.summary.top3:.1%}, "
            f"pain source {row.summary.source_accuracy:.1%} (n={row.summary.n})"
        )
    out.print(f"wrote {', '.join(str(f) for f in files)}")
    return EXIT_OK


def evaluate_external(args: argparse.Namespace, out: Console) -> int:
    """Score the published case reports: tune and held-out side by side, coverage, interview."""
    started = time.perf_counter()
    engine = default_engine()
    wanted = SPLIT_CHOICES[args.split]
    cases = [c for c in load_external(engine.kb) if wanted is None or c.split == wanted]
    scorable = [c for c in cases if c.scorable]
    with progress_bar(out, len(scorable), "published cases") as advance:
        outcomes = run_external(engine, cases, advance)
    runs = []
    if not args.no_interview:
        with progress_bar(out, len(scorable), "interviews") as advance:
            runs = interview_external(engine, cases, outcomes, advance)
    labels = [s for s in ("tune", "held_out") if any(c.split == s for c in cases)]
    groups: dict[str, list[str]] = {s: [c.id for c in cases if c.split == s] for s in labels}
    if len(labels) > 1:
        groups["all"] = [c.id for c in cases]
    summaries = {}
    cov = {}
    for key, ids in groups.items():
        keep = set(ids)
        summaries[key] = summarise_external(
            [o for o in outcomes if o.case_id in keep], [r for r in runs if r.case_id in keep]
        )
        cov[key] = coverage([c for c in cases if c.id in keep])
    seconds = time.perf_counter() - started
    unscored = [c.id for c in cases if not c.scorable]
    files = write_external_report(args.out, summaries, cov, engine.kb.version, unscored)
    for title, rows in (
        (
            f"kneesource on {len(outcomes)} published cases ({seconds:.1f} s)",
            external_rows(summaries),
        ),
        ("What the sources say that kneesource can hear", coverage_rows(cov)),
    ):
        table = Table(title=title)
        table.add_column("metric")
        for key in summaries:
            table.add_column(EXTERNAL_TITLES.get(key, key), justify="right")
        for name, cells in rows:
            table.add_row(name, *cells)
        out.print(table)
    out.print(NOTE)
    out.print(f"wrote {', '.join(str(f) for f in files)}")
    return EXIT_OK
