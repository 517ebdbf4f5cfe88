"""The report a person hands to a clinician: one or two A4 pages, as HTML or as PDF (WeasyPrint).

It holds who and when (age, sex, date, knowledge base version; a name only if one is given), the
level with every reason and what to do, the ranked causes with what supports and what speaks
against the leading ones, where the pain comes from (drawn), the answers grouped (about you,
history, symptoms, risk factors, examination; "don't know" shown as such), for a clinician the
examination tests not yet done that would most change the picture (scored as the interview
scores its questions), the advice for the leading causes, the references and the notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from kneesource.assessment import NOTICE, Assessment
from kneesource.case import Case
from kneesource.engine import Engine
from kneesource.interview import State
from kneesource.interview.flow import askable
from kneesource.interview.questions import question_text
from kneesource.interview.selection import baseline_of, evaluate, ranked
from kneesource.interview.state import DONT_KNOW
from kneesource.interview.triage_link import level_function, question_bank
from kneesource.interview.why import answer_label
from kneesource.report.view import result_view

KIND_TITLES = {
    "history": "History",
    "symptom": "Symptoms",
    "risk_factor": "Risk factors",
    "result": "Results already known",
    "exam": "Examination",
    "context": "Sports",
}
GROUP_ORDER = (
    "About you",
    "History",
    "Symptoms",
    "Risk factors",
    "Sports",
    "Results already known",
    "Examination",
)
TESTS_SHOWN = 3


@dataclass(frozen=True)
class Line:
    question: str
    answer: str
    unknown: bool = False


def _env() -> Environment:
    folder = resources.files("kneesource.report") / "templates"
    return Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["html"]))


def answers_from_state(engine: Engine, state: State) -> dict[str, list[Line]]:
    """The interview's answers in its own words, grouped by the kind of thing each asks."""
    bank = question_bank(engine)
    groups: dict[str, list[Line]] = {}
    for a in state.answers:
        spec = bank.get(a.question)
        if spec.type in ("age", "sex"):
            group = "About you"
        else:
            finding = spec.finding or next((o.finding for o in spec.options if o.finding), None)
            kind = engine.kb.finding(finding).kind if finding else "symptom"
            group = KIND_TITLES.get(kind, "Symptoms")
        label = "don't know" if a.value == DONT_KNOW else answer_label(spec, a.value)
        line = Line(question_text(engine.kb, spec), label, a.value == DONT_KNOW)
        groups.setdefault(group, []).append(line)
    return {g: groups[g] for g in GROUP_ORDER if g in groups}


def answers_from_case(engine: Engine, case: Case) -> dict[str, list[Line]]:
    """A case file's findings in their clinical wording, grouped by kind."""
    groups: dict[str, list[Line]] = {
        "About you": [Line("Age", str(case.age)), Line("Sex", case.sex or "not given")]
    }
    for finding_id, present in case.findings.items():
        f = engine.kb.finding(finding_id)
        group = KIND_TITLES.get(f.kind, "Symptoms")
        groups.setdefault(group, []).append(Line(f.clinician, "yes" if present else "no"))
    return {g: groups[g] for g in GROUP_ORDER if g in groups}


def examination_to_do(
    engine: Engine, case: Case, state: State | None = None
) -> list[dict[str, Any]]:
    """The examination tests not yet done, best first by the interview's question score."""
    bank = question_bank(engine)
    if state is not None:
        todo = [q for q in askable(bank, state) if q.clinician_only]
    else:
        todo = [
            q
            for q in bank.questions
            if q.clinician_only and q.finding is not None and q.finding not in case.findings
        ]
    if not todo:
        return []
    level_of = level_function(engine)
    baseline = baseline_of(engine.model, case, level_of)
    best = ranked(evaluate(engine.model, bank.policy, baseline, todo, level_of))
    out = []
    for e in best[:TESTS_SHOWN]:
        spec = e.question
        finding = engine.kb.finding(spec.finding) if spec.finding else None
        out.append(
            {
                "name": finding.clinician if finding else (spec.text or spec.id),
                "how_to": finding.how_to if finding else None,
                "bits": round(e.gain_conditions, 2),
                "changes_triage": e.changes_triage,
            }
        )
    return out


def report_html(
    engine: Engine,
    a: Assessment,
    state: State | None = None,
    name: str | None = None,
    when: datetime | None = None,
    clinician: bool | None = None,
) -> str:
    """The report as a standalone HTML page (its styles inline: it is printed, not served)."""
    when = when or datetime.now(UTC)
    if clinician is None:
        clinician = state is None or state.mode == "clinician"
    answers = (
        answers_from_state(engine, state)
        if state is not None
        else answers_from_case(engine, a.case)
    )
    css = (resources.files("kneesource.report") / "templates" / "report.css").read_text()
    return (
        _env()
        .get_template("report.html")
        .render(
            r=result_view(engine, a, clinician=clinician),
            leading=a.conditions[:3],
            answers=answers,
            tests=examination_to_do(engine, a.case, state) if clinician else [],
            clinician=clinician,
            name=name,
            date=when.strftime("%d %B %Y, %H:%M UTC"),
            notice=NOTICE,
            css=css,
        )
    )


def report_pdf(html: str) -> bytes:
    """The report rendered to PDF by WeasyPrint (fonts: Debian's DejaVu, or what fontconfig has)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
