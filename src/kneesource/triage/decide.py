"""Decide how urgently a person should act, and why.

The level is the highest of two parts:

1. **Warning-sign rules** (``redflags.yaml`` ``rules``): each rule whose condition on the present
   findings holds sets a floor. Rule conditions have no negation, so more warning signs can only
   switch rules on.
2. **Probability thresholds** (``thresholds``): a serious condition whose posterior reaches a
   documented probability raises the level. A warning sign could, in principle, lower another
   condition's posterior (one cause "explains away" a shared finding), so adding a warning sign
   could drop a threshold. To rule that out, warning signs are never used to lower a
   probability: the thresholds are checked on every combination of the person's other answers
   with up to ``MAX_COMBINED`` of the warning signs present, and the highest probability counts.
   Adding a warning sign only adds combinations, so the level cannot fall; removing one only
   removes combinations, so it cannot rise. With ``MAX_COMBINED`` or fewer warning signs present,
   the combinations include all the answers together.

   Past ``MAX_SCORED`` warning signs nothing is scored: every open threshold above the rules'
   level fires, the most any combination could give, so the work stays bounded.

   The combinations are not computed one by one. A present finding's factor is one minus its
   factor when absent, ``P(f | causes) = 1 - P(not f | causes)``, so for the other answers E and
   a set S of warning signs present (the rest unknown), by inclusion-exclusion,

       P(c, E, S) = sum over T within S of (-1)^|T| P(c, E, every sign of T absent),

   and the same without c. The rows "E with the signs of T absent" hold no warning sign
   present, so they are far cheaper than the combinations (absent findings cost almost nothing
   in exact inference; a model patient with 16 present findings, 5 of them warning signs: its 31
   rows in about 0.1 s against 1.3 s for its 31 combinations), and every combination follows from
   them by sums over subsets. The alternating sums can lose digits when S is unlikely given E;
   each carries a bound on its rounding error (``ROW_ERROR``), and a combination whose bound
   leaves it unclear on which side of one of its condition's thresholds it falls is computed
   directly, so every level is the one the direct combinations give.
3. **Self-care is a conclusion**: with no reason from 1 or 2, self-care needs a self-limiting
   cause leading clearly and no warning sign present (``redflags.yaml`` ``self_care``);
   otherwise the level is "soon".

Findings the person answered "no" to, and findings no rule reads, are used as given.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kneesource.assessment import Assessment
from kneesource.case import Case
from kneesource.inference.exact import Posterior, posterior_batch, row_cost
from kneesource.kb.loader import KnowledgeBase
from kneesource.model.compiled import CompiledModel, FloatArray, compile_model
from kneesource.model.compiled import Person as Patient
from kneesource.triage.advice import Person, age_fits, compose, suspected_conditions
from kneesource.triage.rules import RuleSet
from kneesource.triage.schema import LEVELS, Level, Threshold, level_rank

# How many warning signs are combined at most when probabilities are recomputed. Up to this many
# present warning signs every subset is scored, so all the answers together are included (2^6 = 64
# exact posteriors, a few milliseconds in one batch). Past it, subsets of up to this size are
# scored, and the rules carry the case: every such warning sign already sets a floor of its own.
MAX_COMBINED = 6
# Past this many warning signs no combination is computed (the work would grow without bound:
# 2^w subsets): every open threshold above the rules' level fires at its own level instead. That
# is the most any combination could give, so the level stays monotone, at the cost of more
# urgent advice for a person with very many warning signs (who already has rule reasons).
MAX_SCORED = 8
# Table entries the rows of the combinations of one case may cost (``exact.row_cost`` of the
# other answers with every warning sign absent, times the number of rows, worked out before any
# inference; about 1.5-3 ns of work an entry on a 2-core machine). Past it the combinations are
# not computed and every open threshold fires at its own level, as past ``MAX_SCORED``: the most
# any combination could give, so the level is never lower than it would be with them. At 2^27
# (at most about 0.3 s) a model patient with 15 present findings, 8 of them warning signs
# (247 rows, 2^23.1, 50 ms), is scored exactly; a clinician entering every finding of knee
# osteoarthritis at 60 (38 present, 8 warning signs: 2^29.4, 1 s) is not. Of 300 model patients
# with every answer a person and an examination can give, 62 go unscored at 2^27 (56 at 2^31).
WORK_BUDGET = 1 << 27
# The relative error assumed of each quantity an inference row returns (a probability, an
# evidence probability), for the rounding bound of the inclusion-exclusion sums: an assumption,
# checked by measurement (on 5,215 combinations of 85 model patients with every answer given,
# against each combination computed directly, the largest error was under a tenth of its bound
# and 1.2e-6 at most; tests/triage/test_combinations.py checks the bound, and 1e-8, on its
# cases).
ROW_ERROR = 1e-12


@dataclass(frozen=True)
class Reason:
    """One rule or probability threshold that fired."""

    rule: str
    level: Level
    message: str
    findings: tuple[str, ...]
    condition: str | None
    probability: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level,
            "message": self.message,
            "findings": list(self.findings),
            "condition": self.condition,
            "probability": None if self.probability is None else round(self.probability, 6),
        }


@dataclass(frozen=True)
class Uncertainty:
    """A dangerous cause the answers cannot separate from a less dangerous one."""

    dangerous: str
    benign: str
    test: str

    def to_dict(self) -> dict[str, str]:
        return {"dangerous": self.dangerous, "benign": self.benign, "test": self.test}


@dataclass(frozen=True)
class _Advice:
    """What a triage's advice text is written from. The text is composed when it is first read:
    a result table keeps only the level, and composing took a third of a typical triage."""

    rules: RuleSet
    kb: KnowledgeBase
    person: Person
    conditions: dict[str, float]
    sources: dict[str, float]
    action: str | None

    def text(self, level: Level, uncertainties: Sequence[Uncertainty]) -> str:
        """The advice for ``level``, with a line for each of the triage's ``uncertainties``."""
        rules, kb = self.rules, self.kb
        template = (
            rules.advice.uncertainty
            if level_rank(level) >= level_rank("urgent")
            else rules.advice.uncertainty_later
        )
        lines = [
            template.format(
                dangerous=mid_sentence(kb.condition(u.dangerous).name),
                benign=mid_sentence(kb.condition(u.benign).name),
                test=u.test,
            )
            for u in uncertainties
        ]
        return compose(rules, level, self.person, lines, self.conditions, self.sources, self.action)


@dataclass(frozen=True, eq=False)
class Triage:
    """How urgently to act (``level``), every reason for it, the advice in plain words and the
    dangerous causes the answers cannot yet tell from a harmless one. Two triages are equal
    when all four are."""

    level: Level
    reasons: tuple[Reason, ...]
    # The advice as given (a string), or what composes it when ``advice`` is first read.
    written: str | _Advice = dataclasses.field(repr=False)
    uncertainties: tuple[Uncertainty, ...]

    @functools.cached_property
    def advice(self) -> str:
        """What to do now, what helps, and what would make it more urgent: paragraphs separated
        by blank lines."""
        written = self.written
        return written if isinstance(written, str) else written.text(self.level, self.uncertainties)

    def _key(self) -> tuple[object, ...]:
        return (self.level, self.reasons, self.advice, self.uncertainties)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Triage):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "reasons": [r.to_dict() for r in self.reasons],
            "advice": self.advice,
            "uncertainties": [u.to_dict() for u in self.uncertainties],
        }


def triage(
    rules: RuleSet,
    kb: KnowledgeBase,
    case: Case,
    assessment: Assessment,
    model: CompiledModel | None = None,
) -> Triage:
    """Triage one assessed case. Pass the engine's ``model`` to avoid compiling it again."""
    return triage_many(rules, kb, model or compile_model(kb), [case], [assessment])[0]


def triage_many(
    rules: RuleSet,
    kb: KnowledgeBase,
    model: CompiledModel,
    cases: Sequence[Case],
    assessments: Sequence[Assessment],
) -> list[Triage]:
    """Triage many assessed cases; the combinations of warning signs of all of them run in one
    batched inference call."""
    posteriors = [a.posterior for a in assessments]
    decided = _batched(rules, model, cases, posteriors)
    return [
        _decide(rules, kb, case, a, pending, reasons)
        for case, a, (pending, reasons) in zip(cases, assessments, decided, strict=True)
    ]


def triage_levels(
    rules: RuleSet,
    model: CompiledModel,
    cases: Sequence[Case],
    posteriors: Sequence[Posterior],
) -> list[int]:
    """The rank (0 self-care .. 3 emergency) ``triage_many`` would give each case with this
    exact posterior, without its advice text: for checking many possible answers at once.

    Only the rank is wanted, so combinations are computed only for conditions that could still
    raise it (``_prepare`` with ``level_only``): the same rank for less inference."""
    decided = _batched(rules, model, cases, posteriors, level_only=True)
    return [_rank(reasons) for _, reasons in decided]


def combination_work(rules: RuleSet, model: CompiledModel, case: Case, post: Posterior) -> int:
    """Table entries ``triage_levels`` spends on this case (its combinations of warning signs,
    ``exact.row_cost`` each; 0 when the rank is settled without them), known before any of it
    runs: the interview's measure of what a full level costs before it asks for one."""
    return _prepare(rules, model, case, post, level_only=True).work


@dataclass(frozen=True)
class _Pending:
    """What one case's triage needs before its combinations are computed."""

    reasons: list[Reason]  # the warning-sign rules that fire
    full: dict[str, float]  # each condition's probability on all the answers
    thresholds: tuple[Threshold, ...]  # the open thresholds
    relevant: list[str]  # conditions with a threshold above the rules' level
    # The rows to compute (none if nothing is relevant): the other answers with each set T of
    # up to MAX_COMBINED warning signs absent (the rest unknown), T given as bits over ``signs``.
    rows: list[dict[str, bool]]
    with_full: bool  # the case's own evidence counts among the combinations
    # Why open thresholds fire without scoring: "" (they are scored), "warning_signs" (past
    # MAX_SCORED) or "work" (past WORK_BUDGET).
    unscored: str
    quiet: bool  # no warning sign present (self-care is possible)
    work: int  # table entries the rows cost (``exact.row_cost`` each)
    signs: tuple[str, ...] = ()  # the warning signs present, in the order of the bits
    masks: tuple[int, ...] = ()  # the set T of each row, as bits over ``signs``


def _batched(
    rules: RuleSet,
    model: CompiledModel,
    cases: Sequence[Case],
    posteriors: Sequence[Posterior],
    level_only: bool = False,
) -> list[tuple[_Pending, list[Reason]]]:
    """Each case's rule reasons and threshold reasons, with one inference call for the
    combinations of every case."""
    pending = [
        _prepare(rules, model, c, post, level_only)
        for c, post in zip(cases, posteriors, strict=True)
    ]
    rows = []
    for case, p in zip(cases, pending, strict=True):
        person = case.person(model)
        rows += [(person, row) for row in p.rows]
    posts = posterior_batch(model, rows) if rows else []
    combined = []
    unclear: list[tuple[Patient, dict[str, bool]]] = []
    start = 0
    for case, p in zip(cases, pending, strict=True):
        best, upper, masks = _combine(model, p, posts[start : start + len(p.rows)])
        start += len(p.rows)
        if masks and len(masks) * row_cost(model, case.evidence(model), case.person(model)) > (
            WORK_BUDGET
        ):
            # Too many to compute directly: each counts at its upper bound, never lower.
            for c, value in upper.items():
                best[c] = max(best[c], value)
            masks = []
        combined.append((best, masks, len(unclear)))
        unclear += [(case.person(model), _combination(case, model, p, m)) for m in masks]
    exact = posterior_batch(model, unclear) if unclear else []
    out = []
    for post, p, (best, masks, at) in zip(posteriors, pending, combined, strict=True):
        for direct in exact[at : at + len(masks)]:
            for c in p.relevant:
                best[c] = max(best[c], float(direct.conditions[model.condition_ids.index(c)]))
        if p.unscored:
            reasons = p.reasons + _unscored_reasons(rules, p)
        else:
            reasons = p.reasons + _posterior_reasons(rules, p.thresholds, best, p.full)
        if not reasons and not (p.quiet and _self_limiting_leads(rules, model, post.conditions)):
            reasons.append(_not_clear(rules))
        out.append((p, reasons))
    return out


def _self_limiting_leads(rules: RuleSet, model: CompiledModel, conditions: FloatArray) -> bool:
    """The second half of the self-care test (``redflags.yaml`` ``self_care``): a self-limiting
    cause leads with at least its minimum probability. The first half, no warning sign present,
    is worked out with the rules; it only refuses self-care, so more warning signs can never
    lower the level."""
    policy = rules.self_care
    top = int(np.argmax(conditions))  # the first of the most probable, as max() picks
    return model.condition_ids[top] in policy.causes and conditions[top] >= policy.min_probability


def _unscored_reasons(rules: RuleSet, pending: _Pending) -> list[Reason]:
    """With too many warning signs (or answers) to score their combinations, the most urgent
    open threshold of each condition that could raise the level, as a reason without a
    probability."""
    floor = _rank(pending.reasons)
    top: dict[str, Threshold] = {}
    for t in pending.thresholds:
        if level_rank(t.level) > floor and (
            t.condition not in top or level_rank(t.level) > level_rank(top[t.condition].level)
        ):
            top[t.condition] = t
    note = (
        rules.advice.many_warning_signs
        if pending.unscored == "warning_signs"
        else rules.advice.too_many_answers_to_weigh
    )
    return [
        Reason(f"posterior:{c}", t.level, f"{t.message} {note}", (), c, None)
        for c, t in top.items()
    ]


def _not_clear(rules: RuleSet) -> Reason:
    return Reason("self_care_not_clear", "soon", rules.self_care.message, (), None, None)


def _prepare(
    rules: RuleSet, model: CompiledModel, case: Case, post: Posterior, level_only: bool = False
) -> _Pending:
    """What one case's triage needs. With ``level_only`` (only the rank is wanted, not the
    probabilities the reasons quote), and all the answers together among the combinations
    (at most ``MAX_COMBINED`` warning signs), the floor is also raised by the thresholds the
    answers reach as they stand: the combinations can only add to those, so only conditions
    with a threshold above that floor need them, and often none does."""
    present = frozenset(f for f, v in case.findings.items() if v)
    reasons = _rule_reasons(rules, present, case.age)
    floor = _rank(reasons)
    full = dict(zip(model.condition_ids, post.conditions.tolist(), strict=True))
    thresholds = rules.open_thresholds(present, case.age)
    warnings = len(present & rules.warning_findings_at(case.age))
    # Conditions whose thresholds cannot raise the level are left out (their full-answer
    # probability is used for reporting only).
    relevant = sorted({t.condition for t in thresholds if level_rank(t.level) > floor})
    unscored = "warning_signs" if warnings > MAX_SCORED else ""
    rows: list[dict[str, bool]] = []
    with_full = True
    per_row = 0
    signs: tuple[str, ...] = ()
    masks: tuple[int, ...] = ()
    if relevant and not unscored:
        # A condition no combination can take to any of its thresholds gives no reason either
        # way, so it needs no combination.
        bound = _combination_bound(rules, model, case, post)
        lowest = {c: min(t.probability for t in thresholds if t.condition == c) for c in relevant}
        relevant = [c for c in relevant if bound[model.condition_ids.index(c)] >= lowest[c]]
        if relevant:
            signs, masks, rows, with_full = _combinations(rules, model, case)
            # Decided on the rules' floor, the same in both modes, so the rank stays the full
            # one. A row's cost: the answers with every warning sign absent (the most roots a
            # row can involve).
            if rows:
                per_row = row_cost(
                    model, case.evidence(model) | dict.fromkeys(signs, False), case.person(model)
                )
            if len(rows) * per_row > WORK_BUDGET:
                unscored, rows, with_full = "work", [], True
    if level_only and warnings <= MAX_COMBINED and not unscored:
        reached = (level_rank(t.level) for t in thresholds if full[t.condition] >= t.probability)
        floor = max(floor, max(reached, default=0))
        above = {t.condition for t in thresholds if level_rank(t.level) > floor}
        relevant = [c for c in relevant if c in above]
        if not relevant:
            rows, with_full = [], True
    if not rows:
        signs, masks = (), ()
    return _Pending(
        reasons,
        full,
        thresholds,
        relevant,
        rows,
        with_full,
        unscored,
        warnings == 0,
        len(rows) * per_row,
        signs,
        masks,
    )


def _combination_bound(
    rules: RuleSet, model: CompiledModel, case: Case, post: Posterior
) -> FloatArray:
    """For each condition, a bound on its probability in every combination of the case's
    warning signs, from its probability on all the answers. Leaving out a present finding f
    divides P(c) by at most P(f | c present, the rest), and a noisy-OR finding is at least as
    likely as its leak or c's own link firing: P(f | c, ...) >= 1 - (1 - w_cf)(1 - leak_f).
    So no combination takes c above P(c | all) / prod_f (1 - (1 - w_cf)(1 - leak_f)) over the
    warning signs f present. A condition whose bound stays below its thresholds needs no
    combination for the rank."""
    watched = rules.warning_findings_at(case.age)
    signs = [model.finding_index(f) for f, v in case.evidence(model).items() if v and f in watched]
    floor = 1.0 - (1.0 - model.condition_finding[:, signs]) * (1.0 - model.finding_leak[signs])
    product = floor.prod(axis=1)
    out: FloatArray = np.where(
        product > 0.0, post.conditions / np.where(product > 0.0, product, 1.0), np.inf
    )
    return out


def _decide(
    rules: RuleSet,
    kb: KnowledgeBase,
    case: Case,
    assessment: Assessment,
    pending: _Pending,
    reasons: list[Reason],
) -> Triage:
    full = pending.full
    level = LEVELS[_rank(reasons)]
    reasons.sort(key=lambda r: (-level_rank(r.level), r.probability is not None))
    # A reason below the level keeps its own time frame ("within days") only with a word that
    # the advice above covers it, so nobody acts on the softer line.
    reasons = [
        r
        if r.level == level
        else dataclasses.replace(r, message=f"{rules.advice.outranked} {r.message}")
        for r in reasons
    ]
    fired_rules = {r.rule for r in reasons}
    suspected = suspected_conditions(r.condition for r in reasons)
    uncertainties = []
    for pair in rules.uncertainties:
        if not age_fits(pair.age, case.age):
            continue
        plausible = pair.dangerous in suspected and full[pair.benign] >= pair.benign_min
        if plausible or fired_rules.intersection(pair.rules):
            uncertainties.append(Uncertainty(pair.dangerous, pair.benign, pair.test))
    present = frozenset(f for f, v in case.findings.items() if v)
    person = Person(case.age, present, suspected)
    action = _action(rules, [r for r in reasons if r.level == level], case.age)
    written = _Advice(rules, kb, person, full, assessment.pain_source, action)
    return Triage(level, tuple(reasons), written, tuple(uncertainties))


def _action(rules: RuleSet, at_level: Sequence[Reason], age: int) -> str | None:
    """The named action (``advice.actions``) every reason at the level gives, if they all give
    the same one and it is for this age; otherwise None, and the level's own action stands (one
    reason without a named action, such as a suspected spinal cord problem beside a suspected
    broken bone, keeps the call for an ambulance)."""
    origins = [rules.origin(r.rule, r.level) for r in at_level]
    named = {o.action if o is not None else None for o in origins}
    action = named.pop() if len(named) == 1 else None
    if action is None or not age_fits(rules.advice.actions[action].age, age):
        return None
    return action


def mid_sentence(name: str) -> str:
    """A condition name inside a sentence: only its first letter is lowered, and only when the
    next is lower case, so "(DVT)", "Baker's" and "L3" keep their capitals."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def quick_level(rules: RuleSet, model: CompiledModel, case: Case, post: Posterior) -> int:
    """The triage rank (0 self-care .. 3 emergency) from the rules and from the thresholds read
    on ``post`` alone, without the combinations of warning signs that keep ``triage`` monotone.

    It equals ``triage``'s level except where a warning sign lowers a serious condition's
    probability (explains it away: the quick level is then lower) or more than
    ``MAX_COMBINED`` warning signs are present. It costs no inference: the interview scores
    every possible answer with it, where the combinations would cost 2^w posteriors each."""
    return QuickLevel(rules, model)(case, post)


class QuickLevel:
    """``quick_level`` for many cases under one rule set and model. What depends only on the
    present findings and the age (the rules that fire, the thresholds that could still raise the
    level) is worked out once per distinct set: the possible answers to the interview's
    questions mostly add absent findings, which leave it unchanged."""

    MAX_KEPT = 4096

    def __init__(self, rules: RuleSet, model: CompiledModel) -> None:
        self._rules = rules
        self._model = model
        self._index = {c: i for i, c in enumerate(model.condition_ids)}
        self._parts: dict[
            tuple[frozenset[str], int], tuple[int, list[tuple[int, float, int]], bool]
        ] = {}

    def __call__(self, case: Case, post: Posterior) -> int:
        present = frozenset(f for f, v in case.findings.items() if v)
        key = (present, case.age)
        parts = self._parts.get(key)
        if parts is None:
            if len(self._parts) >= self.MAX_KEPT:
                self._parts.clear()
            parts = self._parts[key] = self._work_out(present, case.age)
        floor, thresholds, quiet = parts
        above = (rank for i, p, rank in thresholds if post.conditions[i] >= p)
        rank = max(floor, max(above, default=0))
        if rank == 0 and not (
            quiet and _self_limiting_leads(self._rules, self._model, post.conditions)
        ):
            return level_rank("soon")
        return rank

    def _work_out(
        self, present: frozenset[str], age: int
    ) -> tuple[int, list[tuple[int, float, int]], bool]:
        """The rank the rules give, (condition index, probability, rank) of each open
        threshold that could raise it, and whether no warning sign is present."""
        rules = self._rules
        floor = _rank(_rule_reasons(rules, present, age))
        thresholds = [
            (self._index[t.condition], t.probability, level_rank(t.level))
            for t in rules.open_thresholds(present, age)
            if level_rank(t.level) > floor
        ]
        return floor, thresholds, present.isdisjoint(rules.warning_findings_at(age))


def _rank(reasons: Sequence[Reason]) -> int:
    """The most urgent level among the reasons, as a rank (0 self-care with none)."""
    return max((level_rank(r.level) for r in reasons), default=0)


def _rule_reasons(rules: RuleSet, present: frozenset[str], age: int) -> list[Reason]:
    """A reason for every warning-sign rule the present findings fire."""
    return [
        Reason(rule.id, rule.level, rule.message, tuple(sorted(hit)), rule.condition, None)
        for rule, hit in rules.fired_rules(present, age)
    ]


def _combinations(
    rules: RuleSet, model: CompiledModel, case: Case
) -> tuple[tuple[str, ...], tuple[int, ...], list[dict[str, bool]], bool]:
    """The rows the combinations of up to ``MAX_COMBINED`` of the case's warning signs (short of
    all of them) follow from: every other answer kept, with each set T of those sizes of the
    warning signs answered "no" and the others unknown (the module docstring). Returns the
    warning signs (the bits of T), each row's T, the rows, and whether the case's own evidence
    counts too (it has at most ``MAX_COMBINED`` warning signs). Nothing without a warning sign."""
    evidence = case.evidence(model)
    watched = rules.warning_findings_at(case.age)
    signs = tuple(sorted(f for f, v in evidence.items() if v and f in watched))
    if not signs:
        return (), (), [], True
    base = {f: v for f, v in evidence.items() if f not in signs}
    sets = [
        combo
        for size in range(min(MAX_COMBINED, len(signs)) + 1)
        for combo in itertools.combinations(range(len(signs)), size)
        if size < len(signs)
    ]
    masks = tuple(sum(1 << i for i in combo) for combo in sets)
    rows = [base | {signs[i]: False for i in combo} for combo in sets]
    return signs, masks, rows, len(signs) <= MAX_COMBINED


def _combination(case: Case, model: CompiledModel, pending: _Pending, mask: int) -> dict[str, bool]:
    """The case's evidence with only the warning signs of ``mask`` present (the others
    unknown): one combination, computed directly."""
    kept = {s for i, s in enumerate(pending.signs) if mask >> i & 1}
    return {f: v for f, v in case.evidence(model).items() if f not in pending.signs or f in kept}


def _combine(
    model: CompiledModel, pending: _Pending, posts: Sequence[Posterior]
) -> tuple[dict[str, float], dict[str, float], list[int]]:
    """For each relevant condition, its highest probability over the combinations of the other
    answers with up to ``MAX_COMBINED`` warning signs (and all the answers, with at most that
    many), from the rows of ``_combinations`` by inclusion-exclusion; the highest upper end of
    the rounding bounds; and the combinations (as bits) too unclear to decide on: one of their
    condition's thresholds lies within the bound of its value. Those are computed directly."""
    best = {c: pending.full[c] if pending.with_full else 0.0 for c in pending.relevant}
    upper = dict(best)
    if not posts:
        return best, upper, []
    k = len(pending.signs)
    index = [model.condition_ids.index(c) for c in pending.relevant]
    log_z = np.array([p.log_evidence for p in posts])
    z = np.exp(log_z - log_z.max())
    columns = np.empty((len(posts), 1 + len(index)))
    columns[:, 0] = z
    columns[:, 1:] = z[:, None] * np.array([p.conditions[index] for p in posts])
    masks = np.array(pending.masks)
    sign = np.where([bin(m).count("1") % 2 for m in pending.masks], -1.0, 1.0)
    signed = np.zeros((1 << k, columns.shape[1]))
    size = np.zeros_like(signed)
    signed[masks] = sign[:, None] * columns
    size[masks] = columns
    for bit in range(k):  # sums over the subsets of every set
        step = 1 << bit
        for table in (signed, size):
            view = table.reshape(-1, 2, step, table.shape[1])
            view[:, 1] += view[:, 0]
    evidence, joint = signed[masks, 0], signed[masks, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = joint / evidence[:, None]
        error = ROW_ERROR * (size[masks, 1:] + np.abs(value) * size[masks, :1]) / evidence[:, None]
    broken = ~(evidence > 0.0) | ~np.isfinite(value).all(axis=1) | ~np.isfinite(error).all(axis=1)
    value = np.where(broken[:, None], 0.0, np.clip(value, 0.0, 1.0))
    error = np.where(broken[:, None], 1.0, error)
    limits = [
        [t.probability for t in pending.thresholds if t.condition == c] for c in pending.relevant
    ]
    unclear = broken.copy()
    for j, (c, lines) in enumerate(zip(pending.relevant, limits, strict=True)):
        best[c] = max(best[c], float(value[~broken, j].max(initial=0.0)))
        upper[c] = max(best[c], float(np.minimum(value[:, j] + error[:, j], 1.0).max()))
        for line in lines:
            unclear |= np.abs(value[:, j] - line) <= error[:, j]
    return best, upper, [int(m) for m in masks[unclear]]


def _posterior_reasons(
    rules: RuleSet,
    thresholds: tuple[Threshold, ...],
    best: dict[str, float],
    full: dict[str, float],
) -> list[Reason]:
    """The highest threshold reached by each condition, as a reason."""
    top: dict[str, Threshold] = {}
    for t in thresholds:
        p = best.get(t.condition, full[t.condition])
        if p >= t.probability and (
            t.condition not in top or level_rank(t.level) > level_rank(top[t.condition].level)
        ):
            top[t.condition] = t
    out = []
    for cond, t in top.items():
        p = best.get(cond, full[cond])
        message = f"{t.message} (estimated chance {_pct(p)})"
        if full[cond] < t.probability:
            message += " " + rules.advice.warning_sign_kept
        out.append(Reason(f"posterior:{cond}", t.level, message, (), cond, p))
    return out


def _pct(p: float) -> str:
    return "below 0.1%" if p < 0.001 else f"{100 * p:.1f}%"
