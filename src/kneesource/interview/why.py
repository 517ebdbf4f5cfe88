"""Why a question is asked, in plain words, with the numbers behind it.

Opening and screen questions carry their reason in ``questions.yaml``. For an adaptive question
the reason is computed from its evaluation: the conditions whose probability would move most
between the possible answers (and to where), the expected information, and whether an answer
could change how urgently care is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from kneesource.interview.followup import FollowUp
from kneesource.interview.questions import QuestionSpec
from kneesource.interview.selection import Baseline, Evaluation, Outcome
from kneesource.interview.state import PartChecklist, Value
from kneesource.kb.loader import KnowledgeBase

SHIFTS_SHOWN = 3
OUTCOMES_SHOWN = 3
MIN_SHIFT = 0.01


@dataclass(frozen=True)
class Shift:
    """How far one condition would move: its probability now and after each likely answer."""

    condition: str
    name: str
    now: float
    after: tuple[tuple[str, float], ...]  # (answer label, probability after it)


@dataclass(frozen=True)
class Why:
    text: str
    separates: tuple[Shift, ...] = ()
    gain_bits: float = 0.0
    changes_triage: bool = False


def percent(p: float) -> str:
    if p < 0.001:
        return "under 0.1%"
    return f"{100 * p:.0f}%" if p >= 0.1 else f"{100 * p:.1f}%"


def answer_label(spec: QuestionSpec, value: Value) -> str:
    if spec.type == "yes_no" or spec.type in ("age", "sex"):
        return str(value).replace("_", " ")
    if spec.type == "single":
        return spec.option(str(value)).label
    if isinstance(value, PartChecklist):
        unsure = ", ".join(spec.option(v).label for v in value.not_sure)
        if not value.ticked:
            return f"none of these, but not sure about: {unsure}"
        return f"{', '.join(spec.option(v).label for v in value.ticked)}; not sure about: {unsure}"
    assert isinstance(value, tuple)
    return ", ".join(spec.option(v).label for v in value) if value else "none of these"


def _outcome_label(spec: QuestionSpec, outcome: Outcome, known: Mapping[str, bool]) -> str:
    """A scored outcome in words. A checklist is scored on the first option ticked in its
    reading order (rarest first), so the options read before it are named as not ticked."""
    value = outcome.value
    if spec.type != "multi":
        return answer_label(spec, value)
    assert isinstance(value, tuple)
    if not value:
        return "nothing is ticked"
    unticked = [
        f"“{o.label}”"
        for o in spec.options
        if str(o.finding) not in known and outcome.case.findings.get(str(o.finding)) is False
    ]
    label = f"“{answer_label(spec, value)}” is ticked"
    return f"{label} but not {' or '.join(unticked)}" if unticked else label


def fixed_why(spec: QuestionSpec) -> Why:
    assert spec.why is not None
    return Why(spec.why)


def adaptive_why(
    kb: KnowledgeBase,
    condition_ids: tuple[str, ...],
    baseline: Baseline,
    evaluation: Evaluation,
    answer_floor: float,
) -> Why:
    spec = evaluation.question
    known = baseline.case.findings
    shown: list[Outcome] = sorted(
        (o for o in evaluation.outcomes if o.probability >= answer_floor),
        key=lambda o: -o.probability,
    )[:OUTCOMES_SHOWN] or [max(evaluation.outcomes, key=lambda o: o.probability)]
    after = np.array([o.posterior.conditions for o in shown])
    spread = after.max(axis=0) - after.min(axis=0)
    shifts = []
    for i in np.argsort(-spread, kind="stable")[:SHIFTS_SHOWN]:
        if spread[i] < MIN_SHIFT:
            break
        shifts.append(
            Shift(
                condition=condition_ids[i],
                name=kb.condition(condition_ids[i]).name,
                now=float(baseline.posterior.conditions[i]),
                after=tuple(
                    (_outcome_label(spec, o, known), float(o.posterior.conditions[i]))
                    for o in shown
                ),
            )
        )
    parts = [spec.why] if spec.why else []
    if len(shifts) >= 2:
        names = ", ".join(s.name for s in shifts[:-1]) + f" and {shifts[-1].name}"
        parts.append(f"Of the questions left, this one best helps tell apart {names}.")
    elif shifts:
        parts.append(f"Of the questions left, this one tells most about {shifts[0].name}.")
    else:
        parts.append("No likely answer would move any cause by more than a point.")
    # A checklist's answers are long: they are named once, by letter.
    refs = {}
    if spec.type == "multi" and shifts:
        refs = {label: f"({chr(ord('a') + k)})" for k, (label, _) in enumerate(shifts[0].after)}
        named = "; ".join(f"{ref} {label}" for label, ref in refs.items())
        parts.append(f"Answers: {named}.")
    for s in shifts:
        moves = "; ".join(f"{percent(p)} if {refs.get(label, label)}" for label, p in s.after)
        parts.append(f"- {s.name}: {percent(s.now)} now; {moves}.")
    total = evaluation.gain_conditions + evaluation.gain_source
    parts.append(f"Expected information from the answer: {total:.2f} bits.")
    if evaluation.changes_triage:
        parts.append("One of the answers would change how soon you should get care.")
    return Why(
        text="\n".join(parts),
        separates=tuple(shifts),
        gain_bits=total,
        changes_triage=evaluation.changes_triage,
    )


def follow_up_why(kb: KnowledgeBase, follow: FollowUp) -> Why:
    """Why a warning-sign follow-up is asked: the finding reported and the rule it may complete."""
    said = ", ".join(kb.finding(f).patient for f in follow.reported)
    return Why(
        f"You reported: {said}. Together with the answer to this question, that can be a warning "
        f"sign: {' '.join(follow.rule.message.split())}",
        changes_triage=True,
    )
