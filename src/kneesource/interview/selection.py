"""Score every question that could be asked next, exactly, with one batched inference call.

For a candidate question q with possible answers a (never "don't know", which settles nothing):

* P(a | answers so far) = exp(log P(evidence ∪ a) - log P(evidence)), from the exact evidence;
* the gain over the differential is the expected drop in the summed binary entropy of every
  condition's probability, ``Σ_c H(p_c) - Σ_a P(a) Σ_c H(p_c | a)`` (bits; conditions can
  coexist, so each is its own yes/no question); the gain over the pain source is the same sum over
  the five sources;
* the triage term is the expected number of triage levels the answer would move,
  ``Σ_a P(a) |rank(level | a) - rank(level now)|``.

* the top-three term is what the answer is expected to add to the summed probability of the
  three leading causes (the expected number of causes present among them),
  ``Σ_a P(a) m(p | a) - m(p)``; the summed entropy alone is dominated by the many unlikely causes.

``score = gain_conditions + source_weight * gain_source + triage_weight * triage_change
+ top3_weight * gain_top3``, and a
question with an answer (at least ``answer_floor`` likely) that would change the triage level
ranks before every question without one. Ties fall to file order, so the choice is deterministic.

A yes/no answer costs one inference row, not two: "no" (an absent finding) is cheap for the
exact algorithm, and "yes" follows from the mixture identity
``p(c) = P(yes) p(c | yes) + P(no) p(c | no)``, which holds for every marginal (conditions,
roots, sources). A single choice gets one row per option.

A checklist of sports (context findings, which set priors rather than being caused) gets one row
per set of ticks, each under the priors that set gives. Its answers are rated by Bayes' rule from
how common each sport is and how well each set explains the answers so far,
``P(a | answers) ∝ prevalence(a) P(answers | a)``; gains are measured from their mixture, which
is what the answers so far say about the outcome of the question.

Any other checklist (multi choice) of k options has 2^k answers, and every ticked option adds a
present finding, the costly kind of evidence. It is scored on a coarser reading of the answer:
*which option is the first ticked*, reading the options rarest first (by the approximate chance
of each finding, ``screening.approximate_presence``), or none. Its k + 1 outcomes need k rows
that only add absent findings ("the first j options unticked"), and each "first ticked is j"
posterior follows from two of them by the same identity. A coarser answer can only carry less
information, so the gain of a checklist is never overstated. Reading the rare options first
keeps them apart, and they are the telling ones: "burning pain" is not lost behind a common
"dull ache".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from kneesource.case import Case
from kneesource.inference.exact import Posterior, posterior, posterior_batch
from kneesource.interview.questions import OptionSpec, Policy, QuestionSpec
from kneesource.interview.state import Value
from kneesource.kb.schema import SOURCE_GROUPS
from kneesource.model.compiled import CompiledModel, FloatArray, Person

# The triage rank (0 self-care .. 3 emergency) of a case given its exact posterior.
LevelFn = Callable[[Case, Posterior], int]
_TINY = 1e-12


@dataclass(frozen=True)
class Outcome:
    """One possible answer to a candidate question and where it would leave the assessment."""

    value: Value
    probability: float
    posterior: Posterior
    level: int
    case: Case  # the case with this answer's findings added


@dataclass(frozen=True)
class Evaluation:
    question: QuestionSpec
    outcomes: tuple[Outcome, ...]
    gain_conditions: float
    gain_source: float
    triage_change: float
    changes_triage: bool
    changes_top3: bool
    score: float
    gain_top3: float = 0.0


@dataclass(frozen=True)
class Baseline:
    """The assessment as it stands, before the next answer."""

    case: Case
    posterior: Posterior
    level: int


def binary_entropy(p: FloatArray) -> FloatArray:
    """The binary entropy (bits) of each yes/no probability."""
    q = np.clip(p, _TINY, 1.0 - _TINY)
    out: FloatArray = -(q * np.log2(q) + (1.0 - q) * np.log2(1.0 - q))
    return out


def entropy_bits(p: FloatArray) -> float:
    """Summed binary entropy (bits) of independent yes/no probabilities."""
    return float(binary_entropy(p).sum())


def top3_mass(p: FloatArray) -> float:
    """The summed probability of the three leading causes: the expected number of causes
    present among them."""
    return float(np.sort(p)[-3:].sum())


def top3(p: FloatArray) -> frozenset[int]:
    return frozenset(int(i) for i in np.argsort(-p, kind="stable")[:3])


def top3_moves(before: FloatArray, after: FloatArray, floor: float) -> bool:
    """Whether an answer changes the three leading causes in a way that matters: a cause at
    least ``floor`` likely on one side is not among the three leading ones on the other.
    Reshuffles among rarer causes do not count (with the leader at 50% and a floor of 2.5%, a
    cause at 0.4% overtaking one at 0.3%)."""
    first, second = top3(before), top3(after)
    return any(i not in second for i in first if before[i] >= floor) or any(
        i not in first for i in second if after[i] >= floor
    )


def reading_order(
    model: CompiledModel, spec: QuestionSpec, presence: FloatArray | None
) -> list[OptionSpec]:
    """The options of a checklist in the order its coarse reading takes them: rarest first by
    ``presence`` (the chance of each finding), file order without it."""
    options = list(spec.options)
    if presence is not None:
        options.sort(key=lambda o: presence[model.finding_index(str(o.finding))])
    return options


def _sources(post: Posterior) -> FloatArray:
    return np.array([post.sources[g] for g in SOURCE_GROUPS])


def outcome_values(spec: QuestionSpec) -> list[tuple[Value, dict[str, bool]]]:
    """Every answer to ``spec`` other than "don't know", with the findings it sets."""
    if spec.type == "yes_no":
        assert spec.finding is not None
        return [("no", {spec.finding: False}), ("yes", {spec.finding: True})]
    if spec.type == "single":
        return [(o.id, dict(o.sets or {})) for o in spec.options]
    out: list[tuple[Value, dict[str, bool]]] = []
    for ticks in itertools.product((False, True), repeat=len(spec.options)):
        chosen = tuple(o.id for o, t in zip(spec.options, ticks, strict=True) if t)
        out.append((chosen, {str(o.finding): t for o, t in zip(spec.options, ticks, strict=True)}))
    return out


def baseline_of(model: CompiledModel, case: Case, level_of: LevelFn) -> Baseline:
    post = posterior(model, case.person(model), case.evidence(model))
    return Baseline(case, post, level_of(case, post))


def evaluate(
    model: CompiledModel,
    policy: Policy,
    baseline: Baseline,
    candidates: Sequence[QuestionSpec],
    level_of: LevelFn,
    presence: FloatArray | None = None,
) -> list[Evaluation]:
    """An exact :class:`Evaluation` of each candidate, all answers in one inference call.

    ``presence``, the chance that each finding is present (approximate will do), orders the
    options of a checklist for its coarse reading, rarest first; file order without it."""
    case = baseline.case
    rows: list[tuple[Person, Mapping[str, bool]]] = []
    plans: list[list[tuple[Value, dict[str, bool], int | None]]] = []
    for spec in candidates:
        plan, own = question_rows(model, spec, case, presence)
        plans.append([(v, sets, None if i is None else len(rows) + i) for v, sets, i in plan])
        rows += own
    posts = posterior_batch(model, rows)
    base = baseline.posterior
    level_now = level_of(case, base)
    h_cond, h_src = entropy_bits(base.conditions), entropy_bits(_sources(base))
    mass_now = top3_mass(base.conditions)
    floor = policy.top3_floor * float(base.conditions.max())
    evaluations = []
    for spec, plan in zip(candidates, plans, strict=True):
        raw: list[tuple[Value, dict[str, bool], float, Posterior | None]] = []
        for value, sets, row in plan:
            if spec.sets_context():
                post = base if row is None else posts[row]
                p = prevalence_of(spec, sets, case.age) * math.exp(
                    post.log_evidence - base.log_evidence
                )
                raw.append((value, sets, p, post))
            elif row is None:
                raw.append((value, sets, 0.0, None))
            else:
                p = float(np.exp(min(0.0, posts[row].log_evidence - base.log_evidence)))
                raw.append((value, sets, p, posts[row]))
        outcomes = _outcomes(case, base, raw, spec, level_of)
        if not outcomes:
            continue
        if spec.sets_context():
            weights = np.array([o.probability for o in outcomes])
            mixture = weights @ np.array([o.posterior.conditions for o in outcomes])
            h_c0 = entropy_bits(mixture)
            h_s0 = entropy_bits(weights @ np.array([_sources(o.posterior) for o in outcomes]))
            mass0 = top3_mass(mixture)
        else:
            h_c0, h_s0, mass0 = h_cond, h_src, mass_now
        # Over all outcomes at once: (outcomes, conditions) and (outcomes, sources).
        probs = np.array([o.probability for o in outcomes])
        conds = np.array([o.posterior.conditions for o in outcomes])
        srcs = np.array([_sources(o.posterior) for o in outcomes])
        gain_c = h_c0 - float(probs @ binary_entropy(conds).sum(axis=1))
        gain_s = h_s0 - float(probs @ binary_entropy(srcs).sum(axis=1))
        change = sum(o.probability * abs(o.level - level_now) for o in outcomes)
        gain_3 = float(probs @ np.sort(conds, axis=1)[:, -3:].sum(axis=1)) - mass0
        likely = [o for o in outcomes if o.probability >= policy.answer_floor]
        top3_likely = [o for o in outcomes if o.probability >= policy.top3_answer_floor]
        evaluations.append(
            Evaluation(
                question=spec,
                outcomes=tuple(outcomes),
                gain_conditions=max(0.0, gain_c),
                gain_source=max(0.0, gain_s),
                triage_change=change,
                changes_triage=any(o.level != level_now for o in likely),
                changes_top3=any(
                    top3_moves(base.conditions, o.posterior.conditions, floor) for o in top3_likely
                ),
                score=max(0.0, gain_c)
                + policy.source_weight * max(0.0, gain_s)
                + policy.triage_weight * change
                + policy.top3_weight * max(0.0, gain_3),
                gain_top3=max(0.0, gain_3),
            )
        )
    return evaluations


def question_rows(
    model: CompiledModel, spec: QuestionSpec, case: Case, presence: FloatArray | None = None
) -> tuple[
    list[tuple[Value, dict[str, bool], int | None]], list[tuple[Person, Mapping[str, bool]]]
]:
    """The answers ``evaluate`` reads for one question, each with the findings it sets and its
    inference row (an index into the rows returned; None for an answer worked out without
    one), and those rows. Its length is the question's share of the scoring's work."""
    person = case.person(model)
    known = case.evidence(model)
    rows: list[tuple[Person, Mapping[str, bool]]] = []
    plan: list[tuple[Value, dict[str, bool], int | None]] = []
    if spec.sets_context():
        for value, sets in outcome_values(spec):
            if any(case.findings.get(f, v) != v for f, v in sets.items()):
                continue
            ticked = frozenset(f for f, v in sets.items() if v)
            if ticked <= person.activities:
                plan.append((value, sets, None))  # the priors of now: the baseline
                continue
            plan.append((value, sets, len(rows)))
            rows.append((replace(person, activities=person.activities | ticked), known))
        return plan, rows
    if spec.type == "multi":
        prefix: dict[str, bool] = {}
        for option in reading_order(model, spec, presence):
            if str(option.finding) in known:
                continue  # already answered: this checklist only confirms it
            prefix = {**prefix, str(option.finding): False}
            plan.append(((option.id,), prefix, len(rows)))
            rows.append((person, {**known, **prefix}))
        return plan, rows
    for value, sets in outcome_values(spec):
        if any(known.get(f, v) != v for f, v in sets.items()):
            continue  # contradicts an earlier answer: impossible here
        if spec.type == "yes_no" and value == "yes":
            plan.append((value, sets, None))  # derived from "no" by the mixture identity
            continue
        plan.append((value, sets, len(rows)))
        rows.append((person, {**known, **sets}))
    return plan, rows


def _outcomes(
    case: Case,
    base: Posterior,
    raw: list[tuple[Value, dict[str, bool], float, Posterior | None]],
    spec: QuestionSpec,
    level_of: LevelFn,
) -> list[Outcome]:
    if spec.type == "yes_no":
        if len(raw) != 2 or raw[0][3] is None:
            return []
        (no_v, no_sets, p_no, post_no), (yes_v, yes_sets, _, _) = raw
        p_no = min(1.0, p_no)
        p_yes = 1.0 - p_no
        if p_yes < _TINY or post_no is None:
            return []  # the answer is certain: asking it cannot change anything
        post_yes = _mixture_rest(base, post_no, p_no, p_yes)
        pairs = [(no_v, no_sets, p_no, post_no), (yes_v, yes_sets, p_yes, post_yes)]
    elif spec.type == "multi" and not spec.sets_context():
        pairs = _first_ticked(base, raw)
        if len(pairs) < 2:
            return []  # one outcome is certain: asking cannot change anything
    else:
        total = sum(p for _, _, p, _ in raw)
        if total < _TINY:
            return []
        # Options of a single choice may overlap or leave cases out; their probabilities are
        # normalised over the options offered. The sets of sports of a checklist of them are
        # exclusive and cover every case: normalising is Bayes' rule.
        pairs = [(v, s, p / total, post) for v, s, p, post in raw if post is not None]
    out = []
    for v, s, p, post in pairs:
        after = Case(case.age, case.sex, {**case.findings, **s})
        out.append(Outcome(v, p, post, level_of(after, post), after))
    return out


def prevalence_of(spec: QuestionSpec, sets: Mapping[str, bool], age: int) -> float:
    """How common this set of ticks of a sports checklist is at ``age`` (independent sports)."""
    out = 1.0
    for option in spec.options:
        share = option.prevalence_at(age)
        out *= share if sets[str(option.finding)] else 1.0 - share
    return out


def _first_ticked(
    base: Posterior, raw: list[tuple[Value, dict[str, bool], float, Posterior | None]]
) -> list[tuple[Value, dict[str, bool], float, Posterior]]:
    """Checklist outcomes "the first option ticked is j" and "none", from the rows "the first j
    options unticked" (``raw``, in order, with their probabilities)."""
    out: list[tuple[Value, dict[str, bool], float, Posterior]] = []
    prev_p, prev_post = 1.0, base
    prev_sets: dict[str, bool] = {}
    for value, sets, p, post in raw:
        assert post is not None
        p = min(p, prev_p)
        first = prev_p - p
        if first >= _TINY:
            ticked = {**prev_sets, next(f for f in sets if f not in prev_sets): True}
            # When this option cannot be left unticked (p ~ 0), ticking it tells nothing new.
            after = (
                _mixture_rest(prev_post, post, p / prev_p, first / prev_p)
                if p >= _TINY
                else prev_post
            )
            out.append((value, ticked, first, after))
        prev_p, prev_post, prev_sets = p, post, sets
    if prev_p >= _TINY:
        out.append(((), prev_sets, prev_p, prev_post))
    return out


def _mixture_rest(base: Posterior, other: Posterior, p_other: float, p_rest: float) -> Posterior:
    """The posterior given the complementary answer: (base - p_other * other) / p_rest."""

    def rest(a: FloatArray, b: FloatArray) -> FloatArray:
        return np.clip((a - p_other * b) / p_rest, 0.0, 1.0)

    sources = rest(_sources(base), _sources(other))
    return Posterior(
        conditions=rest(base.conditions, other.conditions),
        roots=rest(base.roots, other.roots),
        sources={g: float(sources[i]) for i, g in enumerate(SOURCE_GROUPS)},
        log_evidence=base.log_evidence + float(np.log(p_rest)),
    )


def ranked(evaluations: Sequence[Evaluation]) -> list[Evaluation]:
    """Best first: could change the triage level, then score, then file order."""
    order = {id(e): i for i, e in enumerate(evaluations)}
    return sorted(evaluations, key=lambda e: (not e.changes_triage, -e.score, order[id(e)]))
