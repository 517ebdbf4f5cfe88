"""Warning-sign follow-ups: finish checking an urgent rule that an answer has half met.

The red-flag screen asks every finding that is a warning sign on its own. Some urgent and
emergency rules of ``redflags.yaml`` need two or more findings together (calf pain with a risk
factor for a clot, a warm swollen knee with an infected cut nearby). The probability model can
rate the missing partner so unlikely that no information measure would ask for it, yet a person
who has both needs care today. So, as a clinician would, once an answer reports one finding of
such a rule the interview asks for the rest before it narrows down the cause:

* a rule is *started* when one of the findings it names is reported present;
* it is *open* when it can still fire, the unknown findings that questions can still settle
  counting as possibly present, and its level is above the triage level now, or at it for a
  cause that no rule names yet (its advice and safety net differ: a clot's beside a weak
  leg's);
* the findings *still needed* are the unknown ones in the parts of the rule not yet met (a part
  of an ``any_of`` that already holds needs nothing more).

The follow-up serves the first open, started rule, in file order: of the askable questions that
settle a finding it still needs, the one that settles most of them, then the one that asks least
besides, then the first in file order. Rules can only be switched on by findings (there
is no "not"), so every answer either fires the rule, closes it or leaves fewer findings needed:
follow-ups end, and a person whose answers meet an urgent rule is never sent home.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from kneesource.interview.questions import QuestionSpec
from kneesource.triage import level_rank
from kneesource.triage.rules import RuleSet
from kneesource.triage.schema import AgeTest, AllOf, AnyOf, Expr, Rule, SignRef

URGENT = level_rank("urgent")


@dataclass(frozen=True)
class FollowUp:
    question: QuestionSpec
    rule: Rule
    reported: tuple[str, ...]  # the findings reported present that started the rule


def needed(
    rules: RuleSet, expr: Expr, present: frozenset[str], possible: frozenset[str], age: int
) -> frozenset[str] | None:
    """Unknown findings worth asking for ``expr`` to hold: None if it cannot hold any more
    (``possible`` are the findings still unknown and askable), empty if it holds already."""
    if isinstance(expr, str):
        if expr in present:
            return frozenset()
        return frozenset({expr}) if expr in possible else None
    if isinstance(expr, AgeTest):
        return frozenset() if rules.matches(expr, frozenset(), age) is not None else None
    if isinstance(expr, SignRef):
        return needed(rules, rules.signs[expr.sign].when, present, possible, age)
    if isinstance(expr, AllOf):
        out: set[str] = set()
        for part in expr.all_of:
            got = needed(rules, part, present, possible, age)
            if got is None:
                return None
            out |= got
        return frozenset(out)
    items, need = (expr.any_of, 1) if isinstance(expr, AnyOf) else (expr.of, expr.at_least)
    parts = [needed(rules, p, present, possible, age) for p in items]
    alive = [p for p in parts if p is not None]
    if sum(1 for p in alive if not p) >= need:
        return frozenset()
    if len(alive) < need:
        return None
    return frozenset().union(*alive)


def mentioned(rules: RuleSet, expr: Expr) -> Iterator[str]:
    """Every finding an expression names, through its signs."""
    if isinstance(expr, str):
        yield expr
    elif isinstance(expr, SignRef):
        yield from mentioned(rules, rules.signs[expr.sign].when)
    elif isinstance(expr, AllOf | AnyOf):
        for part in expr.all_of if isinstance(expr, AllOf) else expr.any_of:
            yield from mentioned(rules, part)
    elif not isinstance(expr, AgeTest):
        for part in expr.of:
            yield from mentioned(rules, part)


def follow_up(
    rules: RuleSet,
    askable: Sequence[QuestionSpec],
    known: Mapping[str, bool],
    age: int,
    level_now: int,
) -> FollowUp | None:
    """The follow-up question to ask now, or None when no urgent rule is started and open."""
    present = frozenset(f for f, v in known.items() if v)
    # A finding that implies one answered "no" cannot be present either (the knee is not
    # swollen: the swelling did not come on slowly).
    possible = frozenset(
        f
        for q in askable
        for f in q.findings()
        if f not in known and not any(known.get(a) is False for a in rules.implied.get(f, ()))
    )
    # Causes a rule already names at the level now: a rule of another cause at that level is
    # still worth finishing, for its own advice and safety net (a clot's, beside a weak leg's).
    named = {
        rule.condition or rule.id
        for rule in rules.rules
        if level_rank(rule.level) >= level_now
        and rules.matches(rule.when, present, age) is not None
    }
    for rule in rules.rules:
        level = level_rank(rule.level)
        if level < URGENT or level < level_now:
            continue
        if level == level_now and (rule.condition or rule.id) in named:
            continue
        reported = tuple(dict.fromkeys(f for f in mentioned(rules, rule.when) if f in present))
        if not reported:
            continue
        still = needed(rules, rule.when, present, possible, age)
        if not still:
            continue
        asking = [q for q in askable if any(f in still for f in q.findings())]
        if asking:
            best = min(asking, key=lambda q: _fit(q, still))
            return FollowUp(best, rule, reported)
    return None


def _fit(question: QuestionSpec, still: frozenset[str]) -> tuple[int, int]:
    """Order of preference among the questions that settle a needed finding: the one settling
    most of what the rule still needs (one checklist of risk factors rather than four yes/no
    questions), then the one asking least besides (a plain yes/no before a checklist that also
    contains it); ``min`` keeps file order among equals."""
    findings = question.findings()
    covered = sum(f in still for f in findings)
    return -covered, len(findings) - covered


def unscreened_rules(
    rules: RuleSet, questions: Sequence[QuestionSpec], ages: Sequence[int]
) -> list[str]:
    """Urgent rules that some set of findings could fire without any finding the opening or the
    screen asks: follow-ups cannot guarantee those, so the questions file must avoid them.

    Rules only switch on with more findings, so if any such set exists, the set of every
    finding that only adaptive questions ask is one. A finding that implies one the screen
    asks (the swelling came on slowly: the knee is swollen) is reached through it, so it counts
    as screened."""
    fixed = {f for q in questions if q.phase != "adaptive" for f in q.findings()}
    rest = frozenset(
        f
        for q in questions
        for f in q.findings()
        if f not in fixed and fixed.isdisjoint(rules.implied.get(f, ()))
    )
    return [
        rule.id
        for rule in rules.rules
        if level_rank(rule.level) >= URGENT
        and any(rules.matches(rule.when, rest, age) is not None for age in ages)
    ]
