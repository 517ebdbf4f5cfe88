"""Load ``redflags.yaml``, check it against the knowledge base, and evaluate rule conditions.

Checks across files (all problems are collected, then one ``KnowledgeBaseError`` lists them):
every finding, condition, sign and reference id resolves; ids are unique; signs do not refer to
themselves in a loop; every serious condition has a probability threshold.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from kneesource.errors import KnowledgeBaseError
from kneesource.kb import yamlio
from kneesource.kb.loader import KnowledgeBase, default_knowledge_dir, implications
from kneesource.kb.schema import Citation, Source
from kneesource.triage.schema import (
    Advice,
    AgeTest,
    AllOf,
    AnyOf,
    AtLeast,
    Expr,
    RedFlagsFile,
    Rule,
    SafetyNet,
    SelfCare,
    Sign,
    SignRef,
    Threshold,
    Tip,
    UncertainPair,
)

RULES_FILE = "redflags.yaml"
AdviceKind = Literal["tips", "safety_nets", "medicines"]


@dataclass(frozen=True)
class _Index:
    """Expressions by the findings they name, and those that hold with no findings, by age."""

    exprs: tuple[Expr | None, ...]
    by_finding: dict[str, tuple[int, ...]]
    bare: dict[int, dict[int, frozenset[str]]]


@dataclass(frozen=True)
class RuleSet:
    """The validated red-flag rules, thresholds and advice, with the findings they watch."""

    rules: tuple[Rule, ...]
    signs: dict[str, Sign]
    thresholds: tuple[Threshold, ...]
    uncertainties: tuple[UncertainPair, ...]
    self_care: SelfCare
    advice: Advice
    warning_findings: frozenset[str]
    digest: str
    # For each finding, the findings it implies (``implies`` in the findings files, followed
    # through): the rules name each implying finding wherever they name what it implies.
    implied: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)
    # Worked out on first use.
    _by_age: dict[int, frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _names: dict[int, tuple[Expr, frozenset[str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _bare: dict[tuple[int, int], frozenset[str] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _indexes: dict[str, _Index] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __getstate__(self) -> dict[str, object]:
        """Pickled (the engine cache) without what was worked out on use: ``_names`` and
        ``_bare`` are keyed by the ids of the rules' expressions, which in another process
        could name other objects (the indexes and ages are simply rebuilt)."""
        state = dict(self.__dict__)
        state.update(_by_age={}, _names={}, _bare={}, _indexes={})
        return state

    def warning_findings_at(self, age: int) -> frozenset[str]:
        """The findings some rule can read at this age: a finding under an ``all_of`` with an
        age test the person fails cannot switch that rule on, so it is no warning sign for them.
        (Worked out once per age.)"""
        out = self._by_age.get(age)
        if out is None:
            found: set[str] = set()
            for rule in self.rules:
                found |= _reachable(rule.when, self.signs, age)
            out = self._by_age[age] = frozenset(found)
        return out

    def matches(self, expr: Expr, present: frozenset[str], age: int) -> frozenset[str] | None:
        """The present findings that make ``expr`` hold, or None if it does not hold.

        An age test holds without naming a finding, so a match may be an empty set. When
        ``expr`` names none of the present findings, the answer is the one for no findings at
        all, worked out once per expression and age (most rules, for most people)."""
        known = self._names.get(id(expr))
        if known is None:  # the entry keeps ``expr`` alive, so its id is not reused
            known = self._names[id(expr)] = (expr, frozenset(_finding_ids(expr, self.signs, set())))
        if not known[1].isdisjoint(present):
            return self._walk(expr, present, age)
        key = (id(expr), age)
        if key not in self._bare:
            self._bare[key] = self._walk(expr, frozenset(), age)
        return self._bare[key]

    def origin(self, reason: str, level: str) -> Rule | Threshold | None:
        """What a triage reason (its ``rule`` id and ``level``) came from: the rule of that id,
        or for "posterior:<condition>" the condition's threshold at that level; None for a
        reason that is neither (self-care not being clear)."""
        condition = reason.removeprefix("posterior:")
        if condition != reason:
            return next(
                (t for t in self.thresholds if t.condition == condition and t.level == level),
                None,
            )
        return next((r for r in self.rules if r.id == reason), None)

    def fired_rules(self, present: frozenset[str], age: int) -> list[tuple[Rule, frozenset[str]]]:
        """Every rule whose condition holds, in file order, with the present findings that make
        it hold (``matches`` of each rule's ``when``)."""
        hits = self._holding("rules", lambda: [r.when for r in self.rules], present, age)
        return [(self.rules[i], hit) for i, hit in hits]

    def open_thresholds(self, present: frozenset[str], age: int) -> tuple[Threshold, ...]:
        """The probability thresholds whose ``requires`` holds, or that require nothing."""
        hits = self._holding(
            "thresholds", lambda: [t.requires for t in self.thresholds], present, age
        )
        return tuple(self.thresholds[i] for i, _ in hits)

    def holding_advice(self, kind: AdviceKind, present: frozenset[str], age: int) -> frozenset[int]:
        """Positions of the advice items of ``kind`` whose condition holds: "tips" whose
        ``avoid_when`` holds, "safety_nets" whose ``when`` holds (neither holds without one),
        and "medicines" whose ``when`` holds or that have none."""
        items = getattr(self.advice, kind)
        attribute = "avoid_when" if kind == "tips" else "when"
        hits = self._holding(
            kind,
            lambda: [getattr(item, attribute) for item in items],
            present,
            age,
            none_holds=kind == "medicines",
        )
        return frozenset(i for i, _ in hits)

    def _holding(
        self,
        name: str,
        expressions: Callable[[], list[Expr | None]],
        present: frozenset[str],
        age: int,
        none_holds: bool = True,
    ) -> list[tuple[int, frozenset[str]]]:
        """``matches`` of each expression (None holds, naming nothing, when ``none_holds``), as
        (position, hit) for those that hold. Only the expressions that name a present finding
        are walked; the others hold as they do with no findings at all, worked out once per age.
        (The expressions are indexed by finding under ``name`` on first use.)"""
        index = self._indexes.get(name)
        if index is None:
            exprs = tuple(expressions())
            by_finding: dict[str, list[int]] = {}
            for i, expr in enumerate(exprs):
                for f in _finding_ids(expr, self.signs, set()) if expr is not None else ():
                    by_finding.setdefault(f, []).append(i)
            index = self._indexes[name] = _Index(
                exprs, {f: tuple(ids) for f, ids in by_finding.items()}, {}
            )
        exprs = index.exprs
        bare = index.bare.get(age)
        if bare is None:
            bare = index.bare[age] = {
                i: hit
                for i, expr in enumerate(exprs)
                if (
                    hit := (frozenset() if none_holds else None)
                    if expr is None
                    else self._walk(expr, frozenset(), age)
                )
                is not None
            }
        walked = {i for f in present for i in index.by_finding.get(f, ())}
        if not walked:
            return list(bare.items())
        out = {i: hit for i, hit in bare.items() if i not in walked}
        for i in walked:
            expr = exprs[i]
            assert expr is not None  # only expressions that name a finding are indexed
            hit = self._walk(expr, present, age)
            if hit is not None:
                out[i] = hit
        return sorted(out.items())

    def _walk(self, expr: Expr, present: frozenset[str], age: int) -> frozenset[str] | None:
        if isinstance(expr, str):
            return frozenset({expr}) if expr in present else None
        if isinstance(expr, AgeTest):
            return frozenset() if _age_ok(expr, age) else None
        if isinstance(expr, SignRef):
            return self._walk(self.signs[expr.sign].when, present, age)
        if isinstance(expr, AllOf):
            found: set[str] = set()
            for part in expr.all_of:
                hit = self._walk(part, present, age)
                if hit is None:
                    return None
                found |= hit
            return frozenset(found)
        items = expr.any_of if isinstance(expr, AnyOf) else expr.of
        need = 1 if isinstance(expr, AnyOf) else expr.at_least
        hits = [h for h in (self._walk(p, present, age) for p in items) if h is not None]
        if len(hits) < need:
            return None
        return frozenset().union(*hits)


def load_rules(kb: KnowledgeBase, directory: Path | None = None) -> RuleSet:
    """Read and validate ``redflags.yaml`` from ``directory`` (default: the shipped knowledge)."""
    path = (directory or default_knowledge_dir()) / RULES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeBaseError(
            [f"{RULES_FILE}: cannot be read ({exc.strerror or exc})"]
        ) from None
    try:
        data = yamlio.load(text)
    except yamlio.YAMLError as exc:
        raise KnowledgeBaseError([f"{RULES_FILE}: not valid YAML ({exc})"]) from None
    try:
        parsed = RedFlagsFile.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeBaseError(
            [
                f"{RULES_FILE}: {'.'.join(str(p) for p in err['loc']) or 'top level'}: {err['msg']}"
                for err in exc.errors()
            ]
        ) from None
    signs = {s.id: s for s in parsed.signs}
    problems = _problems(kb, parsed, signs)
    if problems:
        raise KnowledgeBaseError([f"{RULES_FILE}: {p}" for p in problems])
    watched: set[str] = set()
    for rule in parsed.rules:
        watched |= _finding_ids(rule.when, signs, set())
    return RuleSet(
        rules=tuple(parsed.rules),
        signs=signs,
        thresholds=tuple(parsed.thresholds),
        uncertainties=tuple(parsed.uncertainties),
        self_care=parsed.self_care,
        advice=parsed.advice,
        warning_findings=frozenset(watched),
        digest=hashlib.sha256(text.encode()).hexdigest(),
        implied=implications(kb),
    )


def _children(expr: Expr) -> list[Expr]:
    if isinstance(expr, AllOf):
        return list(expr.all_of)
    if isinstance(expr, AnyOf):
        return list(expr.any_of)
    if isinstance(expr, AtLeast):
        return list(expr.of)
    return []


def _finding_ids(expr: Expr, signs: dict[str, Sign], seen: set[str]) -> set[str]:
    """Finding ids an expression reads, following signs (``seen`` guards against loops)."""
    if isinstance(expr, str):
        return {expr}
    if isinstance(expr, SignRef):
        if expr.sign in seen or expr.sign not in signs:
            return set()
        return _finding_ids(signs[expr.sign].when, signs, seen | {expr.sign})
    out: set[str] = set()
    for child in _children(expr):
        out |= _finding_ids(child, signs, seen)
    return out


def _reachable(expr: Expr, signs: dict[str, Sign], age: int) -> set[str]:
    """Finding ids that can still help ``expr`` hold for a person of this age."""
    if isinstance(expr, str):
        return {expr}
    if isinstance(expr, AgeTest):
        return set()
    if isinstance(expr, SignRef):
        return _reachable(signs[expr.sign].when, signs, age)
    if isinstance(expr, AllOf):
        for part in expr.all_of:
            gate = _age_gate(part, signs)
            if gate is not None and not _age_ok(gate, age):
                return set()
    out: set[str] = set()
    for child in _children(expr):
        out |= _reachable(child, signs, age)
    return out


def _age_gate(part: Expr, signs: dict[str, Sign]) -> AgeTest | None:
    """The age test ``part`` is, directly or as a sign, if it is one."""
    while isinstance(part, SignRef):
        part = signs[part.sign].when
    return part if isinstance(part, AgeTest) else None


def _age_ok(test: AgeTest, age: int) -> bool:
    lo, hi = test.age.min, test.age.max
    return (lo is None or age >= lo) and (hi is None or age <= hi)


def _refs(expr: Expr) -> Iterator[tuple[str, str]]:
    """(kind, id) for every finding and sign an expression names directly or below."""
    if isinstance(expr, str):
        yield "finding", expr
    elif isinstance(expr, SignRef):
        yield "sign", expr.sign
    for child in _children(expr):
        yield from _refs(child)


def _sign_loops(signs: dict[str, Sign]) -> list[str]:
    loops = []
    for sign in signs.values():
        stack = [r for k, r in _refs(sign.when) if k == "sign"]
        seen: set[str] = set()
        while stack:
            name = stack.pop()
            if name == sign.id:
                loops.append(sign.id)
                break
            if name in seen or name not in signs:
                continue
            seen.add(name)
            stack.extend(r for k, r in _refs(signs[name].when) if k == "sign")
    return loops


def _sources(parsed: RedFlagsFile) -> Iterator[tuple[str, Source]]:
    for rule in parsed.rules:
        yield f"rule {rule.id}", rule.source
    for t in parsed.thresholds:
        yield f"threshold {t.condition}/{t.level}", t.source
    for u in parsed.uncertainties:
        yield f"uncertainty {u.dangerous}/{u.benign}", u.source
    for tip in parsed.advice.tips:
        yield f"tip {tip.id}", tip.source
    for net in parsed.advice.safety_nets:
        yield f"safety net {net.id}", net.source
    for note in parsed.advice.medicines:
        yield f"medicine note {note.id}", note.source
    yield "self_care", parsed.self_care.source


def _problems(kb: KnowledgeBase, parsed: RedFlagsFile, signs: dict[str, Sign]) -> list[str]:
    findings = {f.id for f in kb.findings}
    conditions = {c.id for c in kb.conditions}
    rule_ids = [r.id for r in parsed.rules]
    problems = _duplicate_ids(parsed)

    unknown_signs = False
    for owner, expr in _expressions(parsed):
        for kind, ref in _refs(expr):
            if kind == "finding" and ref not in findings:
                problems.append(f"{owner}: unknown finding {ref!r}")
            if kind == "sign" and ref not in signs:
                problems.append(f"{owner}: unknown sign {ref!r}")
                unknown_signs = True
    loops = _sign_loops(signs)
    problems += [f"sign {s}: refers to itself through other signs" for s in loops]
    for rule in parsed.rules:
        if rule.condition is not None and rule.condition not in conditions:
            problems.append(f"rule {rule.id}: unknown condition {rule.condition!r}")
        if not _finding_ids(rule.when, signs, set()):
            problems.append(f"rule {rule.id}: names no finding, so it would fire for everyone")
        if rule.action is not None and rule.action not in parsed.advice.actions:
            problems.append(f"rule {rule.id}: unknown action {rule.action!r}")
    for t in parsed.thresholds:
        if t.condition not in conditions:
            problems.append(f"threshold: unknown condition {t.condition!r}")
        if t.action is not None and t.action not in parsed.advice.actions:
            problems.append(f"threshold {t.condition}/{t.level}: unknown action {t.action!r}")
    levels_by_condition: dict[str, list[Threshold]] = {}
    for t in parsed.thresholds:
        levels_by_condition.setdefault(t.condition, []).append(t)
    for cond, entries in levels_by_condition.items():
        for dup, n in Counter(t.level for t in entries).items():
            if n > 1:
                problems.append(f"threshold {cond}: level {dup!r} given {n} times")
    for c in kb.conditions:
        if c.serious and c.id not in levels_by_condition:
            problems.append(f"serious condition {c.id} has no probability threshold")
    for u in parsed.uncertainties:
        name = f"uncertainty {u.dangerous}/{u.benign}"
        for side in (u.dangerous, u.benign):
            if side not in conditions:
                problems.append(f"{name}: unknown condition {side!r}")
        for rid in u.rules:
            if rid not in rule_ids:
                problems.append(f"{name}: unknown rule {rid!r}")
    advice_items: list[Tip | SafetyNet] = [*parsed.advice.tips, *parsed.advice.safety_nets]
    for item in advice_items:
        named = [*item.conditions]
        named += item.avoid_if_suspected if isinstance(item, Tip) else item.reasons_for
        for cond in named:
            if cond not in conditions:
                problems.append(f"advice {item.id}: unknown condition {cond!r}")
    for cond in parsed.self_care.causes:
        if cond not in conditions:
            problems.append(f"self_care: unknown condition {cond!r}")
    if not unknown_signs and not loops:  # the expressions can be expanded
        problems += _implication_problems(kb, parsed, signs)
    read = _read_by(parsed, signs)
    for f in kb.findings:
        if f.triage_only and f.id not in read:
            problems.append(
                f"finding {f.id}: triage_only, yet no rule, threshold or advice reads it"
            )
    for what, source in _sources(parsed):
        if isinstance(source, Citation) and source.ref not in kb.references:
            problems.append(f"{what}: cites unknown reference {source.ref!r}")
    return problems


def _expressions(parsed: RedFlagsFile) -> Iterator[tuple[str, Expr]]:
    """Every expression of the file, named as a problem report names it: the signs, then the
    gates (``_gates``)."""
    for sign in parsed.signs:
        yield f"sign {sign.id}", sign.when
    yield from _gates(parsed)


def _gates(parsed: RedFlagsFile) -> Iterator[tuple[str, Expr]]:
    """The expressions that decide something (rules, thresholds, advice gates and medicine
    notes); signs are read through them."""
    for rule in parsed.rules:
        yield f"rule {rule.id}", rule.when
    for t in parsed.thresholds:
        if t.requires is not None:
            yield f"threshold {t.condition}/{t.level}", t.requires
    for tip in parsed.advice.tips:
        if tip.avoid_when is not None:
            yield f"advice {tip.id}", tip.avoid_when
    for net in parsed.advice.safety_nets:
        if net.when is not None:
            yield f"advice {net.id}", net.when
    for note in parsed.advice.medicines:
        if note.when is not None:
            yield f"medicine note {note.id}", note.when


# Terms of an expression's disjunctive form worked out at most (the shipped file's largest has
# 105, the infected-joint rule); past it the expression is reported as too complex to check.
MAX_TERMS = 20_000


def _terms(expr: Expr, signs: dict[str, Sign]) -> list[frozenset[str]]:
    """The sets of present findings (and age tests, as ``age:min:max``) that make ``expr``
    hold, one per term of its disjunctive form: the expressions have no "not", so ``expr``
    holds exactly when the present findings include one of them."""
    if isinstance(expr, str):
        return [frozenset([expr])]
    if isinstance(expr, AgeTest):
        return [frozenset([_age_token(expr)])]
    if isinstance(expr, SignRef):
        return _terms(signs[expr.sign].when, signs)
    if isinstance(expr, AnyOf):
        return [t for child in expr.any_of for t in _terms(child, signs)]
    parts = [_terms(child, signs) for child in _children(expr)]
    groups = [parts] if isinstance(expr, AllOf) else list(combinations(parts, expr.at_least))
    out: list[frozenset[str]] = []
    for group in groups:
        product = [frozenset[str]()]
        for options in group:
            product = [a | b for a in product for b in options]
            if len(product) > MAX_TERMS:
                raise OverflowError
        out += product
        if len(out) > MAX_TERMS:
            raise OverflowError
    return out


def _age_token(test: AgeTest) -> str:
    return f"age:{test.age.min}:{test.age.max}"


def _holds(expr: Expr, signs: dict[str, Sign], present: frozenset[str]) -> bool:
    """Whether ``expr`` holds on ``present`` (findings and age tokens of ``_terms``)."""
    if isinstance(expr, str):
        return expr in present
    if isinstance(expr, AgeTest):
        return _age_token(expr) in present
    if isinstance(expr, SignRef):
        return _holds(signs[expr.sign].when, signs, present)
    if isinstance(expr, AnyOf):
        return any(_holds(c, signs, present) for c in expr.any_of)
    if isinstance(expr, AllOf):
        return all(_holds(c, signs, present) for c in expr.all_of)
    assert isinstance(expr, AtLeast)
    return sum(_holds(c, signs, present) for c in expr.of) >= expr.at_least


def _implication_problems(
    kb: KnowledgeBase, parsed: RedFlagsFile, signs: dict[str, Sign]
) -> list[str]:
    """An expression that holds with a finding must hold with any finding that implies it in
    its place (fluid found in the knee for "my knee is swollen"), or a clinician's answer
    would weigh less than a patient's. Checked on each term of the disjunctive form that names
    the implied finding (the expression is monotone, so the terms are enough); this also catches
    a count (``at_least``) that takes a finding and one it implies as two."""
    implied_by: dict[str, list[str]] = {}
    for f, implied in implications(kb).items():
        for a in implied:
            implied_by.setdefault(a, []).append(f)
    if not implied_by:
        return []
    problems = []
    for owner, expr in _expressions(parsed):
        if not set(implied_by).intersection(_finding_ids(expr, signs, set())):
            continue
        try:
            terms = _terms(expr, signs)
        except OverflowError:
            problems.append(f"{owner}: too many ways to hold to check the implied findings")
            continue
        reported: set[tuple[str, str]] = set()
        for term in terms:
            for a in sorted(term.intersection(implied_by)):
                for b in sorted(implied_by[a]):
                    if (b, a) in reported or _holds(expr, signs, (term - {a}) | {b}):
                        continue
                    reported.add((b, a))
                    problems.append(
                        f"{owner}: holds with {', '.join(sorted(term))} but not with {b} in "
                        f"place of {a}, which {b} implies; name {b} wherever {a} is named"
                    )
    return problems


def _read_by(parsed: RedFlagsFile, signs: dict[str, Sign]) -> set[str]:
    """Every finding the rules, thresholds and advice of the file read."""
    out: set[str] = set()
    for _, expr in _gates(parsed):
        out |= _finding_ids(expr, signs, set())
    return out


def _duplicate_ids(parsed: RedFlagsFile) -> list[str]:
    problems = []
    for what, ids in (
        ("rule", [r.id for r in parsed.rules]),
        ("sign", [s.id for s in parsed.signs]),
        ("tip", [t.id for t in parsed.advice.tips]),
        ("safety net", [n.id for n in parsed.advice.safety_nets]),
        ("medicine note", [m.id for m in parsed.advice.medicines]),
    ):
        problems += [
            f"{what} id {d!r} is defined more than once" for d, n in Counter(ids).items() if n > 1
        ]
    return problems
