"""Triage time and memory against the number of warning signs present.

The triage re-scores the person's answers with combinations of their warning signs so that a
warning sign can never lower the level. Up to ``MAX_SCORED`` warning signs every subset of up
to ``MAX_COMBINED`` of them is scored; past it none is, and every open threshold above the rules'
level fires instead, so the work is bounded whatever the number of warning signs. The
assessment (the posterior with its leave-one-out explanations) is computed first and not timed:
that is inference, measured by ``bench.inference_bench``.

Adversarial cases: warning signs of a 45-year-old added in a fixed random order, skipping any
that would make a rule fire above "soon", so the thresholds above stay open and the combinations
must be scored. Run:
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
from kneesource.triage import MAX_COMBINED, level_rank, triage
from kneesource.triage.decide import MAX_SCORED, _rank, _rule_reasons
from kneesource.triage.rules import RuleSet


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
    order = sorted(engine.rules.warning_findings_at(45))
    random.Random(args.seed).shuffle(order)
    signs: list[str] = []
    for f in order:
        if triage_floor(engine.rules, frozenset([*signs, f]), 45) <= level_rank("soon"):
            signs.append(f)
    table = Table(
        title=f"Triage of one case by warning signs present (MAX_COMBINED {MAX_COMBINED}, "
        f"MAX_SCORED {MAX_SCORED}; {platform.machine()}, {platform.python_version()})"
    )
    for column in ("warning signs", "level", "median ms", "max ms", "peak MB (tracemalloc)"):
        table.add_column(column, justify="right")
    for n in args.counts:
        if n > len(signs):
            parser.error(f"only {len(signs)} adversarial warning signs at 45, asked for {n}")
        case = Case(45, "female", dict.fromkeys(signs[:n], True))
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
            str(n),
            result.level,
            f"{1000 * statistics.median(times):.1f}",
            f"{1000 * max(times):.1f}",
            f"{peak / 2**20:.1f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
