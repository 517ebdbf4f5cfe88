"""Put the advice text together from the pieces in ``redflags.yaml``.

Only selection and ordering happen here; every sentence is data. Every level carries its
safety nets: what to do while waiting and what makes it more urgent, for the serious causes
this person's answers raised. Self-care tips and what to say about painkillers are chosen by
what the person said, and a tip that could harm a serious cause still in question is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kneesource.triage.rules import RuleSet
from kneesource.triage.schema import (
    AgeRange,
    Level,
    MedicineNote,
    SafetyNet,
    Tip,
    level_rank,
)


@dataclass(frozen=True)
class Person:
    """What the advice is chosen by: age, the findings reported present, and the conditions
    that some reason of the triage names (rules and thresholds that fired)."""

    age: int
    present: frozenset[str]
    suspected: frozenset[str]


def _strength(
    item: Tip | SafetyNet, conditions: Mapping[str, float], sources: Mapping[str, float]
) -> float:
    """The highest probability among the item's conditions and pain sources."""
    best = 0.0
    for c in item.conditions:
        best = max(best, conditions.get(c, 0.0))
    for s in item.sources:
        best = max(best, sources.get(s, 0.0))
    return best


def age_fits(r: AgeRange | None, age: int) -> bool:
    """Whether ``age`` is inside the range (no range: every age)."""
    return r is None or ((r.min is None or age >= r.min) and (r.max is None or age <= r.max))


def select_tips(
    rules: RuleSet,
    person: Person,
    conditions: Mapping[str, float],
    sources: Mapping[str, float],
) -> list[Tip]:
    """Tips whose conditions or sources reach their minimum and that are safe for this
    person, most relevant first."""
    advice = rules.advice
    avoided = rules.holding_advice("tips", person.present, person.age)
    scored = [
        (_strength(t, conditions, sources), i, t)
        for i, t in enumerate(advice.tips)
        if age_fits(t.age, person.age)
        and i not in avoided
        and person.suspected.isdisjoint(t.avoid_if_suspected)
    ]
    chosen = [(s, i, t) for s, i, t in scored if s >= t.min_probability and s > 0.0]
    chosen.sort(key=lambda x: (-x[0], x[1]))
    return [t for _, _, t in chosen[: advice.max_tips]]


def select_medicine(rules: RuleSet, person: Person) -> MedicineNote:
    """The first medicine note that fits what the person said (the last fits everyone)."""
    fitting = rules.holding_advice("medicines", person.present, person.age)
    return next(
        m
        for i, m in enumerate(rules.advice.medicines)
        if age_fits(m.age, person.age) and i in fitting
    )


def select_safety_nets(
    rules: RuleSet,
    level: Level,
    person: Person,
    conditions: Mapping[str, float],
    sources: Mapping[str, float],
) -> list[SafetyNet]:
    """Nets for this person at this level, in file order: those always given, those whose
    causes a reason names or whose findings are present, and those made plausible."""
    named = rules.holding_advice("safety_nets", person.present, person.age)
    return [
        n
        for i, n in enumerate(rules.advice.safety_nets)
        if age_fits(n.age, person.age)
        and level_rank(level) <= level_rank(n.up_to)
        and (
            n.always
            or not person.suspected.isdisjoint(n.reasons_for)
            or i in named
            or (
                bool(n.conditions or n.sources)
                and _strength(n, conditions, sources) >= max(n.min_probability, 1e-12)
            )
        )
    ]


def compose(
    rules: RuleSet,
    level: Level,
    person: Person,
    uncertainty_lines: Sequence[str],
    conditions: Mapping[str, float],
    sources: Mapping[str, float],
    action: str | None = None,
) -> str:
    """The advice as paragraphs separated by blank lines: what to do now, what the answers
    cannot settle, (for self-care and soon) what helps and what to know about painkillers,
    then what to do while waiting and what makes it more urgent."""
    advice = rules.advice
    what = advice.levels[level] if action is None else advice.actions[action]
    parts = [f"{what.title}. {what.action}", *uncertainty_lines]
    if level in ("self_care", "soon"):
        tips = select_tips(rules, person, conditions, sources)
        parts += [t.text for t in tips] if tips else [advice.default_tip]
        parts.append(select_medicine(rules, person).text)
    parts += [n.text for n in select_safety_nets(rules, level, person, conditions, sources)]
    return "\n\n".join(parts)


def suspected_conditions(conditions: Iterable[str | None]) -> frozenset[str]:
    """The condition ids among the conditions reasons name (some rules name none)."""
    return frozenset(c for c in conditions if c is not None)
