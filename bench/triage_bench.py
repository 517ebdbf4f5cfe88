"""Triage time and memory against the number of warning signs present.

The triage re-scores the person's answers with combinations of their warning signs so that a
warning sign can never lower the level. Up to ``MAX_SCORED`` warning signs every subset of up
to ``MAX_COMBINED`` of them is scored; past it none is, and every open threshold above the rules'
level fires instead, so the work is bounded whatever the number of warning signs. The
assessment (the posterior with its leave-one-out explanations) is computed first and not timed:
that is inference, measured by ``bench.inference_bench``.

Adversarial cases: warning signs of a 45-year-old added in a fixed random order, skipping any
that would make a rule fire above "soon", so the thresholds above stay open and the combinations
must be scored. A last row is a model patient at the end of an interview (15 present findings,
8 of them warning signs at her age): wide evidence makes each posterior costly. Past the
triage's ``WORK_BUDGET`` none is computed (the last row: every finding linked to knee
osteoarthritis, as a clinician could enter them, at 60). The compiled kernel is loaded first,
as a server or a batch runs. Run:
    .venv/bin/python -m bench.triage_bench [--runs 5] [--counts 0 4 6 8 9 12 16 24]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
import tracemalloc

from rich.console import Console
from rich.table import Table

from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.inference.exact import load_compiled
from kneesource.triage import MAX_COMBINED, level_rank, triage
from kneesource.triage.decide import MAX_SCORED, WORK_BUDGET, _rank, _rule_reasons
from kneesource.triage.rules import RuleSet

# A 56-year-old woman as a model patient (seed 11) ended her interview: knee, calf and leg.
WIDE = Case(
    56,
    "female",
    dict.fromkeys(
        [
            "pain_front_of_knee",
            "pain_inner_knee",
            "pain_back_of_knee",
            "calf_swelling",
            "calf_pain",
            "leg_swelling",
            "lump_behind_knee",
            "bruising_at_ankle",
            "injury_landing_from_jump",
            "gradual_onset_no_injury",
            "pain_over_6_weeks",
            "pain_worse_with_activity_better_rest",
            "pain_on_knee_movement",
            "catching_clicking",
            "knee_crepitus",
        ],
        True,
    ),
)


def triage_floor(rules: RuleSet, present: frozenset[str], age: int) -> int:
    """The level the warning-sign rules alone give, as a rank."""
    return _rank(_rule_reasons(rules, present, age))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (median shown)")
    parser.add_argument(
        "--counts", type=int, nargs="+", default=[0, 4, 6, 8, 9, 12, 16, 24], help="warning signs"
    )
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    console = Console()
    engine = default_engine()
    load_compiled()  # the steady state of a server or a batch (a single assess runs numpy)
    order = sorted(engine.rules.warning_findings_at(45))
    random.Random(args.seed).shuffle(order)
    signs: list[str] = []
    for f in order:
        if triage_floor(engine.rules, frozenset([*signs, f]), 45) <= level_rank("soon"):
            signs.append(f)
    table = Table(
        title=f"Triage of one case by warning signs present (MAX_COMBINED {MAX_COMBINED}, "
        f"MAX_SCORED {MAX_SCORED}, WORK_BUDGET 2^{WORK_BUDGET.bit_length() - 1}; "
        f"{platform.machine()}, {platform.python_version()})"
    )
    for column in ("warning signs", "level", "median ms", "max ms", "peak MB (tracemalloc)"):
        table.add_column(column, justify="right")
    for n in args.counts:
        if n > len(signs):
            parser.error(f"only {len(signs)} adversarial warning signs at 45, asked for {n}")
    rows = [(str(n), Case(45, "female", dict.fromkeys(signs[:n], True))) for n in args.counts]
    rows.append(("8 of 15 present (wide)", WIDE))
    oa = engine.model.condition_ids.index("knee_osteoarthritis")
    every = engine.model.condition_finding[oa] > 0
    linked = [f for f, on in zip(engine.model.finding_ids, every, strict=True) if on]
    rows.append((f"8 of {len(linked)} present (wide)", Case(60, None, dict.fromkeys(linked, True))))
    for label, case in rows:
        assessed = engine.assess(case)
        times = []
        peak = 0
        for _ in range(args.runs):
            tracemalloc.start()
            started = time.perf_counter()
            result = triage(engine.rules, engine.kb, case, assessed, engine.model)
            times.append(time.perf_counter() - started)
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        table.add_row(
            label,
            result.level,
            f"{1000 * statistics.median(times):.1f}",
            f"{1000 * max(times):.1f}",
            f"{peak / 2**20:.1f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
