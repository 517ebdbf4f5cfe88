"""Human-readable output for the terminal (rich). No clinical logic lives here."""

from __future__ import annotations

from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kneesource.assessment import NOTICE, Assessment
from kneesource.kb.loader import KnowledgeBase
from kneesource.kb.schema import Condition
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


# Shown probabilities stop short of certainty: the model cannot examine anyone, and "100%" or
# "99.8%" reads as a diagnosis. The JSON output keeps the exact values.
SHOWN_MAX = 0.95


def pct(p: float) -> str:
    if p < 0.001:
        return "<0.1%"
    if p > SHOWN_MAX:
        return f">{100 * SHOWN_MAX:.0f}%"
    return f"{100 * p:.1f}%"


def _sentence_start(text: str) -> str:
    """Lower-case a first letter only when the second is not upper-case ("L3 ..." stays)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def evidence_words(kb: KnowledgeBase, finding: str, value: bool, clinician: bool = False) -> str:
    """One answer as it is shown among the reasons for a cause: the person's own words in
    patient mode ("you said no to: ..."), the clinical term for a clinician."""
    f = kb.finding(finding)
    if clinician:
        return f.clinician if value else f"no {_sentence_start(f.clinician)}"
    words = _sentence_start(f.patient)
    return f"you said: “{words}”" if value else f"you said no to: “{words}”"


# The leading causes whose own advice is shown: at most this many, each at least this likely.
ADVICE_CAUSES = 2
ADVICE_MIN_PROBABILITY = 0.3


def condition_advice(a: Assessment, kb: KnowledgeBase) -> list[Condition]:
    """The leading causes whose own advice helps: likely ones, shown only at self-care and soon
    (at urgent and emergency the triage advice and its while-you-wait nets say what to do)."""
    if a.triage is None or a.triage.level not in ("self_care", "soon"):
        return []
    return [
        kb.condition(c.id)
        for c in a.conditions[:ADVICE_CAUSES]
        if c.probability >= ADVICE_MIN_PROBABILITY
    ]


def triage_view(t: Triage, kb: KnowledgeBase) -> Panel:
    """The level first, then every reason, what cannot be told apart, and the advice."""
    body = Text()
    for r in t.reasons:
        body.append(f"- [{r.level}] ", style=LEVEL_STYLES[r.level])
        body.append(r.message + "\n")
    for u in t.uncertainties:
        dangerous, benign = kb.condition(u.dangerous).name, kb.condition(u.benign).name
        body.append(f"? {dangerous} or {benign}: only {u.test} can tell.\n", style="yellow")
    if t.reasons or t.uncertainties:
        body.append("\n")
    body.append(t.advice)
    title = Text(f" {t.level.replace('_', ' ').upper()} ", style=LEVEL_STYLES[t.level])
    return Panel(body, title=title, title_align="left", border_style=LEVEL_STYLES[t.level])


def assessment_view(
    a: Assessment, kb: KnowledgeBase, top: int = 8, explain: int = 3, clinician: bool = False
) -> Group:
    title = f"Assessment{f' of {a.case.case_id}' if a.case.case_id else ''}"
    sex = a.case.sex or "sex not given"
    head = Text(f"{title}: age {a.case.age}, {sex}, {len(a.case.findings)} answers given")

    conds = Table(title="Most likely causes", title_justify="left", expand=False)
    conds.add_column("#", justify="right")
    conds.add_column("Condition")
    conds.add_column("Probability", justify="right")
    conds.add_column("")
    for rank, c in enumerate(a.conditions[:top], start=1):
        name = c.name + (" [!]" if c.serious else "")
        conds.add_row(str(rank), name, pct(c.probability), bar(c.probability, 16))

    why = Text()
    if not a.explained:
        why.append(
            "What raised or lowered each cause is not worked out for this case: so many of the "
            "answers point to the same causes that testing each answer on its own would take "
            "too long. The probabilities above are exact.\n"
        )
    for rank, c in enumerate(a.conditions[:explain], start=1):
        why.append(
            f"{rank}. {c.name} ({pct(c.probability)}; before your answers {pct(c.prior)})\n",
            style="bold",
        )
        if c.supporting:
            raised = "; ".join(
                evidence_words(kb, e.finding, e.value, clinician) for e in c.supporting[:4]
            )
            why.append(f"   made more likely by: {raised}\n")
        if c.conflicting:
            lowered = "; ".join(
                evidence_words(kb, e.finding, e.value, clinician) for e in c.conflicting[:3]
            )
            why.append(f"   made less likely by: {lowered}\n")

    helps = Text()
    for cond in condition_advice(a, kb):
        helps.append(f"{cond.name}: ", style="bold")
        helps.append(" ".join(cond.advice.split()) + "\n")

    source = Table(title="Where the pain comes from", title_justify="left")
    source.add_column("Source")
    source.add_column("Probability", justify="right")
    source.add_column("")
    source.add_column("Before the answers", justify="right")
    lead = a.leading_source
    for g, p in sorted(a.pain_source.items(), key=lambda kv: -kv[1]):
        label = SOURCE_LABELS[g] + (" <- answers point here" if g == lead else "")
        source.add_row(label, pct(p), bar(p, 12), pct(a.source_before[g]))

    roots = Table(title="Nerve roots in the lower back", title_justify="left")
    roots.add_column("Root")
    roots.add_column("Probability", justify="right")
    roots.add_column("")
    for r, p in a.nerve_roots.items():
        roots.add_row(r, pct(p), bar(p, 12))

    foot = Text(
        "[!] marks causes that need prompt care if present. Several causes can be present at "
        "once, so the probabilities need not add up to 100%. They are for these answers and "
        f"change as more is known. Knowledge base {a.knowledge_base_version}.",
        style="dim",
    )
    notice = Panel(Text(NOTICE), border_style="yellow")
    parts: list[RenderableType] = [head]
    if a.triage is not None:
        parts.append(triage_view(a.triage, kb))
    parts += [notice, conds, why]
    if helps:
        parts.append(Panel(helps, title="About the leading causes", title_align="left"))
    parts += [Columns([source, roots]), foot]
    if a.triage is not None:
        parts.append(summary_view(a))
    return Group(*parts)


def summary_view(a: Assessment) -> Panel:
    """The last thing on the screen, so the urgency never scrolls away: the level and what to
    do, the three leading causes and where the answers point."""
    assert a.triage is not None
    body = Text()
    body.append(what_to_do(a.triage) + "\n", style=LEVEL_STYLES[a.triage.level])
    if a.triage.reasons:
        body.append(f"Why: {a.triage.reasons[0].message}\n")
    top = "; ".join(f"{c.name} {pct(c.probability)}" for c in a.conditions[:3])
    body.append(f"Most likely: {top}\n")
    group = a.leading_source
    body.append(
        f"Where the answers point: {SOURCE_LABELS[group]} ({pct(a.pain_source[group])}, "
        f"{pct(a.source_before[group])} before the answers)"
    )
    title = Text(f" IN SHORT: {a.triage.level.replace('_', ' ').upper()} ")
    return Panel(body, title=title, title_align="left", border_style=LEVEL_STYLES[a.triage.level])


def what_to_do(t: Triage) -> str:
    """The level's title and the first sentence of its action (the advice's first paragraph
    begins with them)."""
    sentences = t.advice.split("\n\n", 1)[0].split(". ")
    return ". ".join(sentences[:2]).rstrip(".") + "."


def print_assessment(
    console: Console, a: Assessment, kb: KnowledgeBase, clinician: bool = False
) -> None:
    console.print(assessment_view(a, kb, clinician=clinician))
