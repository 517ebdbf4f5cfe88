"""The external set's figures as rows (for the terminal and Markdown) and its report file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kneesource.commands.base import write_atomically
from kneesource.evaluation.external import CATEGORIES, Coverage
from kneesource.evaluation.external_run import ExternalSummary
from kneesource.evaluation.report import num, pct

COLUMN_TITLES = {"tune": "tune", "held_out": "held-out", "all": "all"}
NOTE = (
    "Figures from cases the project extracted itself are an upper bound: the sources were read "
    "without sight of the knowledge base, but the mapping to finding ids used its vocabulary."
)


def _frac(right: int, n: int) -> str:
    return f"{100 * right / n:.0f}% ({right}/{n})" if n else "n/a"


def external_rows(summaries: Mapping[str, ExternalSummary]) -> list[tuple[str, list[str]]]:
    cols = list(summaries.values())
    rows: list[tuple[str, list[str]]] = [
        ("cases scored", [str(s.n) for s in cols]),
        ("with a diagnosis of the model", [str(s.diagnosed) for s in cols]),
        ("top-1", [pct(s.top1) for s in cols]),
        ("top-3", [pct(s.top3) for s in cols]),
        ("pain source", [pct(s.source) for s in cols]),
    ]
    groups = sorted({g for s in cols for g in s.by_source})
    for g in groups:
        rows.append((f"  source: {g}", [_frac(*s.by_source.get(g, (0, 0))) for s in cols]))
    rows += [
        ("triage exact", [pct(s.triage.exact) for s in cols]),
        ("under-triage", [pct(s.triage.under_triage) for s in cols]),
        ("under by two levels", [str(s.under_by_two) for s in cols]),
        ("over-triage", [pct(s.triage.over_triage) for s in cols]),
        ("over-triage to urgent or emergency", [pct(s.over_to_urgent) for s in cols]),
        (
            "emergencies caught",
            [f"{pct(s.triage.emergency_sensitivity)} of {s.triage.emergencies}" for s in cols],
        ),
        ("calibration (ECE)", [num(s.ece) for s in cols]),
    ]
    if any(s.interview for s in cols):
        rows += [
            ("interview: top-3", [pct(s.interview_top3) for s in cols]),
            ("interview: pain source", [pct(s.interview_source) for s in cols]),
            ("interview: median questions", [num(s.interview_median, 0) for s in cols]),
            ("interview: level below assess", [str(s.interview_below_assess) for s in cols]),
        ]
    return rows


def coverage_rows(cov: Mapping[str, Coverage]) -> list[tuple[str, list[str]]]:
    cols = list(cov.values())
    rows = [
        ("facts in the sources", [str(c.facts) for c in cols]),
        ("facts the vocabulary can say", [pct(c.share) for c in cols]),
        ("  of them said by age and sex", [str(c.person) for c in cols]),
        ("  of them said by the complaint (knee pain)", [str(c.complaint) for c in cols]),
    ]
    rows += [(f"  cannot say: {k}", [str(c.by_category[k]) for c in cols]) for k in CATEGORIES]
    return rows


def write_external_report(
    folder: Path,
    summaries: Mapping[str, ExternalSummary],
    cov: Mapping[str, Coverage],
    knowledge_base_version: str,
    unscored: list[str],
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    head = "| metric | " + " | ".join(COLUMN_TITLES.get(k, k) for k in summaries) + " |"
    rule = "|---|" + "---|" * len(summaries)
    lines = [
        "# kneesource on published case reports (external set)",
        "",
        f"Knowledge base {knowledge_base_version}. {NOTE}",
        "",
        head,
        rule,
        *(f"| {name} | " + " | ".join(cells) + " |" for name, cells in external_rows(summaries)),
        "",
        "## Coverage of the sources' facts",
        "",
        "| | " + " | ".join(COLUMN_TITLES.get(k, k) for k in cov) + " |",
        "|---|" + "---|" * len(cov),
        *(f"| {name} | " + " | ".join(cells) + " |" for name, cells in coverage_rows(cov)),
        "",
    ]
    if unscored:
        lines += [f"Not scored (the source gives no age): {', '.join(unscored)}.", ""]
    # Imported here: matplotlib takes a third of a second to import, and only reports need it.
    from kneesource.evaluation.plots import reliability_diagram

    files = []
    for key, s in summaries.items():
        path = folder / f"external-reliability-{key}.png"
        files.append(reliability_diagram(s.reliability, f"External cases ({key})", path))
        lines.append(f"![reliability, {key}]({path.name})")
    report = folder / "external-report.md"
    write_atomically(report, "\n".join(lines) + "\n")
    return [report, *files]
