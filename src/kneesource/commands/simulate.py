"""``kneesource simulate``: synthetic patients drawn from the model, with optional answer noise."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from kneesource.commands.base import EXIT_OK, write_atomically
from kneesource.commands.evaluate import progress_bar
from kneesource.engine import default_engine
from kneesource.evaluation.runner import run_posteriors, simulated_truth, summarise
from kneesource.evaluation.simulator import (
    OBSERVE_MODES,
    Observation,
    PersonSampler,
    observable_findings,
    simulate,
)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "simulate",
        help="draw synthetic patients from the model (JSON lines that `assess` reads)",
        description="Draw synthetic patients from the model: causes from their priors, nerve "
        "roots and findings from the noisy-OR links. Each line is a case that `kneesource "
        "assess` reads; its note says which causes were really present.",
    )
    p.add_argument("-n", "--patients", type=int, default=100, help="how many (default 100)")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same patients)")
    p.add_argument(
        "--observe",
        choices=OBSERVE_MODES,
        default="all",
        help="which answers are given: all findings, what a patient can answer, or exam tests",
    )
    p.add_argument(
        "--max-present", type=int, default=8, help="present findings kept per patient (default 8)"
    )
    p.add_argument("--noise-flip", type=float, default=0.0, help="share of answers reversed")
    p.add_argument("--noise-unknown", type=float, default=0.0, help="share of answers dropped")
    p.add_argument("--age-min", type=int, default=10)
    p.add_argument("--age-max", type=int, default=85)
    p.add_argument("--out", type=Path, default=None, help="write the JSON lines to this file")
    p.add_argument(
        "--score", action="store_true", help="assess the patients and print how often it is right"
    )
    p.set_defaults(handler=simulate_command)


def simulate_command(args: argparse.Namespace, out: Console) -> int:
    engine = default_engine()
    observation = Observation(
        observable=observable_findings(engine.kb, args.observe),
        flip=args.noise_flip,
        unknown=args.noise_unknown,
        max_present=args.max_present,
    )
    people = PersonSampler(age_min=args.age_min, age_max=args.age_max)
    patients = simulate(engine.model, args.patients, args.seed, people, observation)
    lines = []
    for i, patient in enumerate(patients):
        record = patient.case(engine.model, f"sim{i}").to_dict()
        roots = ", ".join(patient.roots) or "none"
        record["note"] = f"present: {', '.join(patient.conditions)}; roots: {roots}"
        lines.append(json.dumps(record))
    if args.out is not None:
        write_atomically(args.out, "".join(f"{line}\n" for line in lines))
        out.print(f"wrote {len(lines)} synthetic patients to {args.out}")
    else:
        sys.stdout.write("".join(f"{line}\n" for line in lines))
        sys.stdout.flush()
    if args.score:
        truths = [simulated_truth(engine, p, f"sim{i}") for i, p in enumerate(patients)]
        with progress_bar(out, len(truths), "scoring") as advance:
            s = summarise(run_posteriors(engine, truths, advance))
        out.print(
            f"{s.n} synthetic patients (flip {args.noise_flip:.0%}, unknown "
            f"{args.noise_unknown:.0%}): top-1 {s.top1:.1%}, top-3 {s.top3:.1%}, "
            f"pain source {s.source_accuracy:.1%}, root level {s.root_accuracy:.1%} "
            f"(n={s.root_cases})"
        )
    return EXIT_OK
