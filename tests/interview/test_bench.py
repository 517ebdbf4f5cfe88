"""The interview benchmark runs end to end, pools seeds, and its full-information row agrees
with itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALL = ("--model-patients", "2", "--seed", "3", "4", "--no-vignettes")


def _run(*args: str) -> str:
    bench = str(ROOT / "bench" / "interview_bench.py")
    done = subprocess.run(
        [sys.executable, bench, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return done.stdout


def _rows(out: str) -> dict[str, dict[str, str]]:
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines()]
    head, *body = [c for c in cells if c[0] and not c[0].startswith(("#", "---"))]
    return {row[0]: dict(zip(head, row, strict=True)) for row in body}


def test_two_seeds_pooled_in_one_table() -> None:
    out = _run(*SMALL)
    # two patients from each seed, one table, every strategy
    assert "### model patients (n=4, seed 3 4)" in out and out.count("### ") == 1
    rows = _rows(out)
    assert set(rows) == {"adaptive", "fixed order", "full information"}
    full = rows["full information"]
    # full information is its own reference: it agrees with itself and misses nothing
    assert full["top-1 = full"] == full["triage = full"] == "100.0%"
    assert full["missed red flags"] == full["below full urgency"] == "0"
    assert 7 <= int(rows["adaptive"]["median q"]) <= 30  # past the opening and screen, capped


def test_strategies_can_be_chosen() -> None:
    rows = _rows(_run(*SMALL, "--strategies", "adaptive"))
    assert set(rows) == {"adaptive", "full information"}


def test_people_who_do_not_know_every_answer() -> None:
    # The same people (same seed), each finding unknown with chance 1/2: they can tell less,
    # so the answers settle fewer findings.
    sure = _rows(_run(*SMALL, "--strategies", "adaptive"))
    out = _run(*SMALL, "--strategies", "adaptive", "--dont-know", "0.5")
    assert "### model patients (n=4, seed 3 4, each finding unknown with chance 0.5)" in out
    unsure = _rows(out)
    column = "findings settled (median)"
    assert int(unsure["adaptive"][column]) < int(sure["adaptive"][column])


def test_a_chance_outside_0_to_1_is_a_usage_error() -> None:
    bench = str(ROOT / "bench" / "interview_bench.py")
    done = subprocess.run(
        [sys.executable, bench, "--dont-know", "1.5"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2
    assert "--dont-know must be at least 0 and below 1, got 1.5" in done.stderr


def test_model_patients_say_what_their_findings_imply() -> None:
    # The network draws each finding on its own; a drawn person who has swelling the next day
    # also says the knee is swollen (``implies`` in the findings files), as a real one would.
    # Before, a man on a blood thinner whose knee swelled gradually said "no" to a swollen knee,
    # and the bench counted the blood-thinner rule as missed by the interview.
    from bench.interview_bench import model_patients

    from kneesource.engine import default_engine
    from kneesource.kb.loader import implications

    engine = default_engine()
    implied = implications(engine.kb)
    patients = model_patients(engine, 40, 11)
    checked = 0
    for p in patients:
        for f, v in p.case.findings.items():
            for g in implied.get(f, ()):
                if v and g in p.case.findings:
                    assert p.case.findings[g], (p.case.case_id, f, g)
                    checked += 1
    assert checked > 0
