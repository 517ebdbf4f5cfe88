"""Put the advice text together from the pieces in ``redflags.yaml``.

Only selection and ordering happen here; every sentence is data. Self-care and "soon" answers
always carry at least one safety net (what should make the person seek care sooner).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kneesource.triage.schema import Advice, Level, SafetyNet, Tip


def _strength(
    item: Tip | SafetyNet, conditions: Mapping[str, float], sources: Mapping[str, float]
) -> float:
    """The highest probability among the item's conditions and pain sources."""
    values = [conditions.get(c, 0.0) for c in item.conditions]
    values += [sources.get(s, 0.0) for s in item.sources]
    return max(values, default=0.0)


def _age_fits(item: Tip | SafetyNet, age: int) -> bool:
    r = item.age
    return r is None or ((r.min is None or age >= r.min) and (r.max is None or age <= r.max))


def select_tips(
    advice: Advice, age: int, conditions: Mapping[str, float], sources: Mapping[str, float]
) -> list[Tip]:
    """Tips whose conditions or sources reach their minimum, most relevant first."""
    scored = [
        (_strength(t, conditions, sources), i, t)
        for i, t in enumerate(advice.tips)
        if _age_fits(t, age)
    ]
    chosen = [(s, i, t) for s, i, t in scored if s >= t.min_probability and s > 0.0]
    chosen.sort(key=lambda x: (-x[0], x[1]))
    return [t for _, _, t in chosen[: advice.max_tips]]


def select_safety_nets(
    advice: Advice, age: int, conditions: Mapping[str, float], sources: Mapping[str, float]
) -> list[SafetyNet]:
    """Nets that are always given, then those made relevant by this case, in file order."""
    return [
        n
        for n in advice.safety_nets
        if _age_fits(n, age)
        and (n.always or _strength(n, conditions, sources) >= max(n.min_probability, 1e-12))
    ]


def compose(
    advice: Advice,
    level: Level,
    age: int,
    uncertainty_lines: Sequence[str],
    conditions: Mapping[str, float],
    sources: Mapping[str, float],
) -> str:
    """The advice as paragraphs separated by blank lines: what to do now, what the answers
    cannot settle, then (for self-care and soon) what helps and when to seek care sooner."""
    what = advice.levels[level]
    parts = [f"{what.title}. {what.action}", *uncertainty_lines]
    if level in ("self_care", "soon"):
        tips = select_tips(advice, age, conditions, sources)
        parts += [t.text for t in tips] if tips else [advice.default_tip]
        parts += [n.text for n in select_safety_nets(advice, age, conditions, sources)]
    return "\n\n".join(parts)
