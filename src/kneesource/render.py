"""Human-readable output for the terminal (rich). No clinical logic lives here."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kneesource.assessment import NOTICE, Assessment
from kneesource.kb.loader import KnowledgeBase
from kneesource.triage import Triage

# Colours of the triage panel, most urgent first (presentation only).
LEVEL_STYLES = {
    "emergency": "bold white on red",
    "urgent": "bold red",
    "soon": "bold yellow",
    "self_care": "bold green",
}

BAR_WIDTH = 24
SOURCE_LABELS = {
    "knee": "the knee itself",
    "spine": "lower back (nerve roots)",
    "hip": "the hip",
    "vascular": "blood vessels",
    "other": "other (muscle, nerve, bone)",
}


def bar(p: float, width: int = BAR_WIDTH) -> Text:
    filled = round(max(0.0, min(1.0, p)) * width)
    return Text("█" * filled, style="cyan") + Text("░" * (width - filled), style="grey35")


def pct(p: float) -> str:
    if p < 0.001:
        return "<0.1%"
    return f"{100 * p:.1f}%"


def triage_view(t: Triage) -> Panel:
    """The level first, then every reason, what cannot be told apart, and the advice."""
    body = Text()
    for r in t.reasons:
        body.append(f"- [{r.level}] ", style=LEVEL_STYLES[r.level])
        body.append(r.message + "\n")
    for u in t.uncertainties:
        body.append(f"? {u.dangerous} or {u.benign}: {u.test}\n", style="yellow")
    if t.reasons or t.uncertainties:
        body.append("\n")
    body.append(t.advice)
    title = Text(f" {t.level.replace('_', ' ').upper()} ", style=LEVEL_STYLES[t.level])
    return Panel(body, title=title, title_align="left", border_style=LEVEL_STYLES[t.level])


def assessment_view(a: Assessment, kb: KnowledgeBase, top: int = 10) -> Group:
    title = f"Assessment{f' of {a.case.case_id}' if a.case.case_id else ''}"
    sex = a.case.sex or "sex not given"
    head = Text(f"{title}: age {a.case.age}, {sex}, {len(a.case.findings)} answers given")

    conds = Table(title="Most likely causes", title_justify="left", expand=False)
    conds.add_column("#", justify="right")
    conds.add_column("Condition")
    conds.add_column("From")
    conds.add_column("Probability", justify="right")
    conds.add_column("")
    conds.add_column("Main reasons")
    for rank, c in enumerate(a.conditions[:top], start=1):
        reasons = ", ".join(
            ("" if e.value else "no ") + kb.finding(e.finding).clinician.lower()
            for e in c.supporting[:3]
        )
        name = c.name + (" [!]" if c.serious else "")
        conds.add_row(str(rank), name, c.source, pct(c.probability), bar(c.probability), reasons)

    source = Table(title="Where the pain comes from", title_justify="left")
    source.add_column("Source")
    source.add_column("Probability", justify="right")
    source.add_column("")
    for g, p in sorted(a.pain_source.items(), key=lambda kv: -kv[1]):
        source.add_row(SOURCE_LABELS[g], pct(p), bar(p))

    roots = Table(title="Nerve roots in the lower back", title_justify="left")
    roots.add_column("Root")
    roots.add_column("Probability", justify="right")
    roots.add_column("")
    for r, p in a.nerve_roots.items():
        roots.add_row(r, pct(p), bar(p))

    foot = Text(
        "[!] marks causes that need prompt care if present. Probabilities are for this set of "
        f"answers; they can change as more is known. Knowledge base {a.knowledge_base_version}.",
        style="dim",
    )
    notice = Panel(Text(NOTICE), border_style="yellow")
    if a.triage is None:
        return Group(head, notice, conds, source, roots, foot)
    return Group(head, triage_view(a.triage), notice, conds, source, roots, foot)


def print_assessment(console: Console, a: Assessment, kb: KnowledgeBase) -> None:
    console.print(assessment_view(a, kb))
