"""The evaluation report: one Markdown file and its figures, written into a folder.

The Markdown holds every number the figures show, so the report can be read (and diffed between
knowledge-base versions) without the images.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kneesource.commands.base import write_atomically
from kneesource.errors import InputError
from kneesource.evaluation.metrics import confusion_matrix
from kneesource.evaluation.runner import Outcome, Summary
from kneesource.evaluation.vignettes import TRIAGE_LEVELS

# Published accuracy of symptom checkers and GPs on general clinical vignettes (not knee-only),
# as quoted in docs/evaluation.md: (who, top-1, top-3, source).
PUBLISHED: tuple[tuple[str, str, str, str], ...] = (
    ("23 symptom checkers", "34%", "51%", "Semigran et al., BMJ 2015;351:h3480"),
    ("Physicians on the same vignettes", "72%", "84%", "Semigran et al., JAMA Intern Med 2016"),
    ("Best symptom-assessment app", "-", "70.5%", "Gilbert et al., BMJ Open 2020"),
    ("GPs", "-", "82.1%", "Gilbert et al., BMJ Open 2020"),
)
COLUMN_TITLES = {"tune": "tune", "held_out": "held-out", "all": "all", "simulated": "simulated"}


@dataclass(frozen=True)
class SimulationRow:
    """Accuracy on synthetic patients at one noise setting."""

    flip: float
    unknown: float
    summary: Summary


def pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


def num(x: float, digits: int = 3) -> str:
    return "n/a" if math.isnan(x) else f"{x:.{digits}f}"


def summary_rows(summaries: Mapping[str, Summary]) -> list[tuple[str, list[str]]]:
    """(metric, one cell per column) in the order the report and the terminal show them."""
    cols = list(summaries.values())

    def triage(cell: str) -> list[str]:
        out = []
        for s in cols:
            t = s.triage
            if t is None:
                out.append("n/a")
            elif cell == "emergency":
                hits = round(t.emergency_sensitivity * t.emergencies) if t.emergencies else 0
                out.append(f"{pct(t.emergency_sensitivity)} ({hits}/{t.emergencies})")
            else:
                out.append(pct(getattr(t, cell)))
        return out

    return [
        ("cases", [str(s.n) for s in cols]),
        ("top-1 accuracy", [pct(s.top1) for s in cols]),
        ("top-3 accuracy", [pct(s.top3) for s in cols]),
        ("pain-source accuracy", [pct(s.source_accuracy) for s in cols]),
        ("root-level accuracy", [f"{pct(s.root_accuracy)} (n={s.root_cases})" for s in cols]),
        ("root called without root involvement", [pct(s.root_false_alarm) for s in cols]),
        ("triage exact", triage("exact")),
        ("triage safe (expected level or more urgent)", triage("safe")),
        ("under-triage", triage("under_triage")),
        ("over-triage", triage("over_triage")),
        ("emergency sensitivity", triage("emergency")),
        ("expected calibration error (all conditions)", [num(s.ece) for s in cols]),
        ("Brier score (all conditions)", [num(s.brier, 4) for s in cols]),
        ("expected calibration error (top-1 confidence)", [num(s.top1_ece) for s in cols]),
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return lines


def write_report(
    out_dir: Path,
    outcomes: Sequence[Outcome],
    summaries: Mapping[str, Summary],
    *,
    knowledge_base_version: str,
    seconds: float,
    simulation: Sequence[SimulationRow] = (),
) -> list[Path]:
    """Write ``report.md`` and its PNG figures into ``out_dir``; return the files written."""
    if not outcomes:
        raise InputError("there are no cases to report on")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    label = ", ".join(COLUMN_TITLES.get(k, k) for k in summaries if k != "all")
    overall = summaries.get("all") or next(iter(summaries.values()))
    labels = sorted({o.truth.conditions[0] for o in outcomes} | {o.top for o in outcomes})
    matrix = confusion_matrix(
        [o.truth.conditions[0] for o in outcomes], [o.top for o in outcomes], labels
    )
    # Imported here: matplotlib takes a third of a second to import, and only reports need it.
    from kneesource.evaluation.plots import (
        confusion_plot,
        reliability_diagram,
        truth_probability_bars,
    )

    files = [
        reliability_diagram(
            overall.reliability, f"Reliability ({label})", out_dir / "reliability.png"
        ),
        confusion_plot(matrix, labels, f"Top-1 against truth ({label})", out_dir / "confusion.png"),
        truth_probability_bars(
            outcomes, f"Probability of the final diagnosis ({label})", out_dir / "probabilities.png"
        ),
    ]
    lines = [
        "# kneesource evaluation report",
        "",
        f"Knowledge base {knowledge_base_version}; {len(outcomes)} vignettes ({label}); "
        f"run time {seconds:.1f} s. Method and definitions: docs/evaluation.md. Held-out "
        "vignettes are only ever scored, never used to tune the knowledge base.",
        "",
        "## Summary",
        "",
        *_table(
            ["metric", *(COLUMN_TITLES.get(k, k) for k in summaries)],
            [[name, *cells] for name, cells in summary_rows(summaries)],
        ),
        "",
        "## Published figures for comparison",
        "",
        "General symptom-checker audits used vignettes of every kind of illness; these vignettes "
        "are knee pain only, so the comparison shows the order of magnitude, not a head-to-head.",
        "",
        *_table(
            ["who", "top-1", "top-3", "source"],
            [
                *PUBLISHED,
                ("kneesource (" + label + ")", pct(overall.top1), pct(overall.top3), "this run"),
            ],
        ),
        "",
        "## Figures",
        "",
        "![Reliability diagram](reliability.png)",
        "",
        "![Confusion matrix](confusion.png)",
        "",
        "![Probability of the final diagnosis](probabilities.png)",
        "",
        "## Cases ranked wrongly (top-1 is not the final diagnosis)",
        "",
        *_misses(outcomes),
        "",
        "## Top-1 accuracy by final diagnosis",
        "",
        *_by_condition(outcomes),
        "",
        "## Triage: expected (rows) against given (columns)",
        "",
        *_triage_matrix(outcomes),
        "",
        "## Every case",
        "",
        *_cases(outcomes),
    ]
    if simulation:
        lines += ["", *_simulation(simulation)]
    path = out_dir / "report.md"
    write_atomically(path, "\n".join(lines) + "\n")
    return [path, *files]


def _misses(outcomes: Sequence[Outcome]) -> list[str]:
    rows = [
        [
            o.case_id,
            o.truth.label,
            o.truth.conditions[0],
            f"{o.top} ({pct(o.probabilities[0])})",
            str(o.rank),
            pct(o.truth_probability),
        ]
        for o in outcomes
        if o.rank != 1
    ]
    if not rows:
        return ["None."]
    return _table(["case", "split", "diagnosis", "ranked first", "rank", "p(diagnosis)"], rows)


def _by_condition(outcomes: Sequence[Outcome]) -> list[str]:
    total = Counter(o.truth.conditions[0] for o in outcomes)
    first = Counter(o.truth.conditions[0] for o in outcomes if o.rank == 1)
    top3 = Counter(o.truth.conditions[0] for o in outcomes if o.rank <= 3)
    rows = [[c, str(n), str(first[c]), str(top3[c])] for c, n in sorted(total.items())]
    return _table(["diagnosis", "cases", "ranked first", "in top 3"], rows)


def _triage_matrix(outcomes: Sequence[Outcome]) -> list[str]:
    pairs = [(o.truth.triage, o.triage_predicted) for o in outcomes if o.truth.triage is not None]
    if not pairs or any(p is None for _, p in pairs):
        return ["Triage levels were not available from the engine."]
    counts = Counter(pairs)
    levels = list(reversed(TRIAGE_LEVELS))
    rows = [[e, *(str(counts[(e, p)]) for p in levels)] for e in levels]
    return _table(["expected \\ given", *levels], rows)


def _cases(outcomes: Sequence[Outcome]) -> list[str]:
    rows = [
        [
            o.case_id,
            o.truth.label,
            o.truth.conditions[0],
            str(o.rank),
            pct(o.truth_probability),
            f"{o.truth.sources[0]} / {o.source_predicted}",
            f"{o.truth.roots[0] if o.truth.roots else '-'} / "
            + (o.root_predicted if o.root_probability >= 0.5 else "-"),
            f"{o.truth.triage or '-'} / {o.triage_predicted or '-'}",
        ]
        for o in outcomes
    ]
    return _table(
        ["case", "split", "diagnosis", "rank", "p", "source (true / given)", "root", "triage"],
        rows,
    )


def _simulation(rows: Sequence[SimulationRow]) -> list[str]:
    return [
        "## Synthetic patients drawn from the model",
        "",
        "Patients sampled from the model itself (see docs/evaluation.md); a hit is any present "
        "cause ranked first (top-1) or in the first three (top-3).",
        "",
        *_table(
            ["answers flipped", "answers unknown", "patients", "top-1", "top-3", "pain source"],
            [
                [
                    pct(r.flip),
                    pct(r.unknown),
                    str(r.summary.n),
                    pct(r.summary.top1),
                    pct(r.summary.top3),
                    pct(r.summary.source_accuracy),
                ]
                for r in rows
            ],
        ),
    ]
