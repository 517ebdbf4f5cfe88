"""Assessments: posteriors turned into a ranked differential with the evidence behind each rank.

For every condition, each observed finding is scored by how much it moved that condition: the
probability is recomputed with the finding left out (``probability_without``). A finding that
raised the probability supports the condition; one that lowered it conflicts with it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from kneesource.case import Case
from kneesource.inference.complaint import population_priors
from kneesource.inference.exact import (
    EXPLAIN_BUDGET,
    Posterior,
    encode_evidence,
    explanation_cost,
    fits_kernel,
    posterior_rows,
    posterior_wide,
)
from kneesource.inference.junction import FloatArray
from kneesource.kb.loader import KnowledgeBase
from kneesource.kb.schema import SOURCE_GROUPS, Condition
from kneesource.model.compiled import CompiledModel, Person
from kneesource.owned import lru_per

if TYPE_CHECKING:  # triage depends on assessments, not the other way round
    from kneesource.triage import Triage

NOTICE = (
    "kneesource is decision support, not a diagnosis. It cannot examine you. If you are worried, "
    "or the pain is severe or getting worse, see a clinician."
)
# A finding whose removal changes a probability by less than this is not listed as evidence.
MIN_EFFECT = 0.001
# A group takes the lead only when the answers multiplied its odds by at least this much: a
# Bayes factor from 1 to 3 is "not worth more than a bare mention" (Kass and Raftery, J Am Stat
# Assoc 1995;90:773-795, after Jeffreys), and answers mostly unknown, or all "no", nudge small
# groups up by a few per cent while the pain plainly stays at the knee.
LEAD_FACTOR = 3.0


def source_before(model: CompiledModel, priors: FloatArray) -> dict[str, float]:
    """The probability of a cause in each source group before any answer, from the person's
    priors (``model.priors(person)``). The conditions are independent in the population (priors
    q), and a cause in the group always brings the complaint (share s), so it is one minus the
    product of the group's population complements, divided by s
    (:mod:`kneesource.inference.complaint`)."""
    groups = np.asarray(model.groups)
    q, scale, _ = population_priors(model, priors)
    return {
        g: min(1.0, float(-np.expm1(np.log1p(-q[0, groups == g]).sum()) / scale[0]))
        for g in SOURCE_GROUPS
    }


def source_factors(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """How many times the answers multiplied the odds of a cause in each source group (the
    Bayes factor of the answers for that group)."""

    def odds(p: float) -> float:
        return min(max(p, 1e-12), 1.0 - 1e-12) / max(1.0 - p, 1e-12)

    return {g: odds(after[g]) / odds(before[g]) for g in SOURCE_GROUPS}


def leading_source(after: dict[str, float], before: dict[str, float]) -> str:
    """Where the answers point: of the groups whose odds the answers raised at least
    ``LEAD_FACTOR`` times, the one they raised the most; when they raised none that far, the
    most probable group.

    Probabilities alone name the knee almost always, because some knee cause is common in anyone
    with knee pain; what the product has to tell is whether what the person said points
    elsewhere (the hip, the spine, the vessels). A group the answers made less likely is never
    named for being lowered least."""
    factors = source_factors(after, before)
    raised = [g for g in SOURCE_GROUPS if factors[g] >= LEAD_FACTOR]
    if not raised:
        return max(SOURCE_GROUPS, key=lambda g: after[g])
    return max(raised, key=lambda g: factors[g])


@dataclass(frozen=True)
class EvidenceItem:
    finding: str
    value: bool
    probability_without: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "value": self.value,
            "probability_without": round(self.probability_without, 6),
        }


@dataclass(frozen=True)
class RankedCondition:
    id: str
    name: str
    clinical_name: str
    source: str
    serious: bool
    prior: float
    probability: float
    supporting: tuple[EvidenceItem, ...]
    conflicting: tuple[EvidenceItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "clinical_name": self.clinical_name,
            "probability": round(self.probability, 6),
            "prior": round(self.prior, 6),
            "source": self.source,
            "serious": self.serious,
            # (Most conditions have no evidence listed: no list to build for them.)
            "supporting": [e.to_dict() for e in self.supporting] if self.supporting else [],
            "conflicting": [e.to_dict() for e in self.conflicting] if self.conflicting else [],
        }


@dataclass(frozen=True)
class _Explanation:
    """What the ranked differential is built from: the person's priors, and each listed
    finding (its id and answer) with every condition's probability when it is left out (one
    row per finding). Kept on the assessment, and turned into :class:`RankedCondition` objects
    only when they are asked for: a batch written as JSON needs only their dictionaries."""

    kb: KnowledgeBase
    model: CompiledModel
    priors: FloatArray
    names: list[str]
    values: list[bool]
    left_out: FloatArray  # (findings, conditions)


@dataclass(frozen=True)
class _Ranking:
    """The conditions from the most probable down, with the findings that moved each."""

    order: list[int]  # condition indices, most probable first; ties in the model's order
    # By condition index: (finding row, probability without it, the same rounded to six
    # places) of the findings that raised it, and of those that lowered it, strongest first
    # (ties in the order given).
    supporting: dict[int, list[tuple[int, float, float]]]
    conflicting: dict[int, list[tuple[int, float, float]]]


def _ranking(probabilities: FloatArray, left_out: FloatArray) -> _Ranking:
    order = np.argsort(-probabilities, kind="stable").tolist()
    supporting: dict[int, list[tuple[int, float, float]]] = {}
    conflicting: dict[int, list[tuple[int, float, float]]] = {}
    if not len(left_out):
        return _Ranking(order, supporting, conflicting)
    # (findings, conditions): how much leaving each finding out would lower each probability;
    # the findings that moved a condition by at least MIN_EFFECT are listed for it.
    effect = probabilities[None, :] - left_out
    rows, conds = np.nonzero(np.abs(effect) >= MIN_EFFECT)
    moved = effect[rows, conds]
    # By condition, then strongest first, then in the order the findings were given.
    keep = np.lexsort((rows, -np.abs(moved), conds))
    without = left_out[rows[keep], conds[keep]]
    for c, k, e, p, p6 in zip(
        conds[keep].tolist(),
        rows[keep].tolist(),
        moved[keep].tolist(),
        without.tolist(),
        round6(without),
        strict=True,
    ):
        (supporting if e > 0 else conflicting).setdefault(c, []).append((k, p, p6))
    return _Ranking(order, supporting, conflicting)


def round6(values: FloatArray) -> list[float]:
    """``[round(v, 6) for v in values]``, computed for the whole array at once. numpy rounds
    ``v * 1e6`` in binary, which can pick the other neighbour when ``v`` lies within rounding
    error of a half; those few are rounded again by Python, exactly as ``round`` does."""
    values = np.asarray(values, dtype=np.float64)
    scaled = values * 1e6
    out: list[float] = (np.rint(scaled) / 1e6).tolist()
    for i in (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6).nonzero()[0].tolist():
        out[i] = round(float(values[i]), 6)
    return out


@dataclass(frozen=True)
class Assessment:
    case: Case
    pain_source: dict[str, float]
    nerve_roots: dict[str, float]
    knowledge_base_version: str
    posterior: Posterior
    # The pain-source probabilities before any answer, for this age, sex and sports.
    source_before: dict[str, float]
    explanation: _Explanation = dataclasses.field(repr=False, compare=False)
    triage: Triage | None = None  # filled by ``Engine.assess`` / ``assess_many``
    # False when the case was too wide to re-run once per answer within ``EXPLAIN_BUDGET``:
    # the probabilities are exact, the supporting and conflicting lists are left empty.
    explained: bool = True

    @functools.cached_property
    def _ranking(self) -> _Ranking:
        return _ranking(self.posterior.conditions, self.explanation.left_out)

    @functools.cached_property
    def conditions(self) -> tuple[RankedCondition, ...]:
        """The differential: every condition from the most probable down, with the answers
        that raised it (``supporting``) and lowered it (``conflicting``), strongest first."""
        x, ranking = self.explanation, self._ranking
        names, values = x.names, x.values
        probabilities, priors = self.posterior.conditions.tolist(), x.priors.tolist()
        conditions = _conditions(x.kb, x.model)

        def items(found: list[tuple[int, float, float]] | None) -> tuple[EvidenceItem, ...]:
            return tuple(EvidenceItem(names[k], values[k], p) for k, p, _ in found or ())

        return tuple(
            RankedCondition(
                cond.id,
                cond.name,
                cond.clinical_name,
                cond.source_group,
                cond.serious,
                priors[i],
                probabilities[i],
                items(ranking.supporting.get(i)),
                items(ranking.conflicting.get(i)),
            )
            for i in ranking.order
            for cond in (conditions[i],)
        )

    @property
    def leading_source(self) -> str:
        """The source group the answers point to (see :func:`leading_source`)."""
        return leading_source(self.pain_source, self.source_before)

    @property
    def source_factors(self) -> dict[str, float]:
        return source_factors(self.pain_source, self.source_before)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.case.case_id is not None:
            out["case_id"] = self.case.case_id
        out["notice"] = NOTICE
        if self.triage is not None:
            out["triage"] = self.triage.to_dict()
        out["conditions"] = self._condition_dicts()
        out["pain_source"] = {k: round(v, 6) for k, v in self.pain_source.items()}
        out["pain_source_before"] = {k: round(v, 6) for k, v in self.source_before.items()}
        out["leading_source"] = self.leading_source
        out["nerve_roots"] = {k: round(v, 6) for k, v in self.nerve_roots.items()}
        out["knowledge_base_version"] = self.knowledge_base_version
        out["explained"] = self.explained
        return out

    def _condition_dicts(self) -> list[dict[str, Any]]:
        """``[c.to_dict() for c in self.conditions]``, made from the arrays without building
        the objects (the same numbers, rounded the same way)."""
        x, ranking = self.explanation, self._ranking
        probabilities, priors = round6(self.posterior.conditions), round6(x.priors)
        names, values = x.names, x.values
        conditions = _conditions(x.kb, x.model)

        def items(found: list[tuple[int, float, float]]) -> list[dict[str, Any]]:
            return [
                {"finding": names[k], "value": values[k], "probability_without": p6}
                for k, _, p6 in found
            ]

        supporting, conflicting = ranking.supporting, ranking.conflicting

        return [
            {
                "id": cond.id,
                "name": cond.name,
                "clinical_name": cond.clinical_name,
                "probability": probabilities[i],
                "prior": priors[i],
                "source": cond.source_group,
                "serious": cond.serious,
                # (Most conditions have no evidence listed: no list to build for them.)
                "supporting": items(supporting[i]) if i in supporting else [],
                "conflicting": items(conflicting[i]) if i in conflicting else [],
            }
            for i in ranking.order
            for cond in (conditions[i],)
        ]


# Posterior queries (a case and its leave-one-out variants) scored together at most: bounds the
# memory of a batch of fully answered cases (about 180 queries each).
MAX_QUERIES = 8192


def assess_cases(
    kb: KnowledgeBase, model: CompiledModel, cases: Sequence[Case], explain: bool = True
) -> list[Assessment]:
    """Assess many cases. A case the compiled kernel can hold runs with its leave-one-finding-out
    variants as rows of one batch (groups of at most ``MAX_QUERIES`` rows); a wider case runs by
    bucket elimination, its variants as rows of the same pass (or without them, beyond the
    explanation budget). With ``explain`` False no variant is computed: the probabilities and the
    triage are the same, the supporting and conflicting lists are empty."""
    out: list[Assessment | None] = [None] * len(cases)
    group: list[int] = []
    queries = 0
    for k, case in enumerate(cases):
        evidence = case.evidence(model)
        if not fits_kernel(model, evidence):
            out[k] = _assess_wide(kb, model, case, explain)
            continue
        q = 1 + (len(case.findings) if explain else 0)
        if group and queries + q > MAX_QUERIES:
            _assess_group(kb, model, [cases[i] for i in group], explain, group, out)
            group, queries = [], 0
        group.append(k)
        queries += q
    if group:
        _assess_group(kb, model, [cases[i] for i in group], explain, group, out)
    assert all(a is not None for a in out)
    return cast(list[Assessment], out)


def _variants(
    model: CompiledModel, case: Case, quiet: frozenset[str]
) -> list[tuple[str, Person | None]]:
    """The findings whose removal can change a probability by ``MIN_EFFECT``, each with the
    person to use when left out (None: the same person, the finding's evidence removed). A
    context finding said yes (a sport) sets the priors; a triage-only finding or a sport said no
    changes nothing; an absent finding that ``quiet_absent`` clears (``quiet``) cannot move any
    probability that far, so it would be listed nowhere."""
    out: list[tuple[str, Person | None]] = []
    context = set(model.context_ids)
    for f, value in case.findings.items():
        if f in context:
            if value:
                out.append((f, case.without(f).person(model)))
        elif f not in model.triage_ids and f not in quiet:
            out.append((f, None))
    return out


def quiet_absent(model: CompiledModel, case: Case, post: Posterior) -> frozenset[str]:
    """The absent findings whose leaving out cannot change any probability by ``MIN_EFFECT``
    (``absent_bounds`` below it, with a margin for rounding): they need no run of their own,
    since they would be listed as evidence for nothing."""
    return quiet_absent_many(model, [case], [post])[0]


def quiet_absent_many(
    model: CompiledModel, cases: Sequence[Case], posts: Sequence[Posterior]
) -> list[frozenset[str]]:
    """``quiet_absent`` of many cases, worked out together."""
    names = [_absent(model, c) for c in cases]
    positions = model.finding_positions
    findings = np.array([positions[f] for fs in names for f in fs], dtype=np.int64)
    if not len(findings):
        return [frozenset() for _ in cases]
    owner = np.repeat(np.arange(len(cases)), [len(fs) for fs in names])
    causes = np.array([_causes(p) for p in posts])
    quiet = (_bounds(model, causes, findings, owner) < MIN_EFFECT - _ROUNDING).tolist()
    out, at = [], 0
    for fs in names:
        out.append(frozenset(f for f, q in zip(fs, quiet[at : at + len(fs)], strict=True) if q))
        at += len(fs)
    return out


def absent_bounds(model: CompiledModel, case: Case, post: Posterior) -> dict[str, float]:
    """For each absent finding of the case, a bound on how far leaving it out can move any
    probability (of a condition, a root or a pain source), from the case's posteriors ``post``.

    Leaving out an absent finding g reweights every state of the network by a function of g's
    causes alone (conditions and nerve roots): h = the product of r = 1 / (1 - w) over the
    causes present, 1 when none is, H when all are. Every probability then moves by at most the
    total variation between the causes' joint distributions with and without g, which is
    E|h - m| / 2m for m = E[h]; with h between 1 and H this is at most
    (m - 1)(H - m) / ((H - 1) m). m is not known, but it lies between
    1 + sum of P(cause)(r - 1) (a product of r's is at least one plus the sum of their excesses)
    and the smaller of 1 + (H - 1) min(1, sum of P(cause)) (h exceeds 1 only when some cause is
    present) and 1 + H sum of P(cause) w (a product of r's less one is at most the sum over its
    causes of (r - 1) times the others' r's, and (r - 1) H / r = H w), and the bound is taken at
    the m of that range closest to sqrt(H), where it peaks. With one cause this is exactly how
    far that cause's own probability moves. A cause that always produces g (w = 1) gives no
    bound (inf)."""
    names = _absent(model, case)
    if not names:
        return {}
    positions = model.finding_positions
    findings = np.array([positions[f] for f in names], dtype=np.int64)
    bound = _bounds(model, _causes(post)[None, :], findings, np.zeros(len(names), np.int64))
    return dict(zip(names, bound.tolist(), strict=True))


def _absent(model: CompiledModel, case: Case) -> list[str]:
    positions = model.finding_positions
    return [f for f, v in case.findings.items() if not v and f in positions]


def _causes(post: Posterior) -> FloatArray:
    """The probabilities of every possible cause of a finding: conditions, then roots."""
    return np.concatenate([post.conditions, post.roots])


def _bounds(
    model: CompiledModel, causes: FloatArray, findings: np.ndarray, owner: np.ndarray
) -> FloatArray:
    """``absent_bounds`` of finding ``findings[k]`` (a column) in case ``owner[k]``, whose
    causes' probabilities are ``causes[owner[k]]`` (``_causes``), for many at once."""
    top, table = _absent_reach(model)
    sums = (causes @ table).reshape(len(causes), 3, -1)  # (cases, 3, findings)
    low = 1.0 + sums[owner, 0, findings]
    mass, weighted = sums[owner, 1, findings], sums[owner, 2, findings]
    big = top[findings]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        high = 1.0 + np.minimum((big - 1.0) * np.minimum(mass, 1.0), big * weighted)
        m = np.clip(np.sqrt(big), low, np.maximum(low, high))
        bound = (m - 1.0) * (big - m) / ((big - 1.0) * m)
    bound = np.where(big > 1.0, bound, 0.0)  # no cause: leaving it out changes nothing
    out: FloatArray = np.where(np.isfinite(bound), bound, np.inf)
    return out


# Room left below MIN_EFFECT for rounding in the probabilities a bound is compared with.
_ROUNDING = 1e-9


def _absent_reach(model: CompiledModel) -> tuple[FloatArray, FloatArray]:
    """For ``_bounds``, kept on the model: H per finding (inf when a cause always produces it),
    and a table (conditions and roots, 3 x findings) of r - 1 = w / (1 - w), 1 for a cause and
    w, so that one product with the causes' probabilities gives the three sums."""
    cached: tuple[FloatArray, FloatArray] | None = model.__dict__.get("_reach")
    if cached is None:
        w = np.concatenate([model.condition_finding, model.root_finding])
        with np.errstate(divide="ignore"):
            keep = np.log1p(-w).sum(axis=0)
            excess = w / (1.0 - w)
        table = np.stack([excess, (w > 0.0).astype(np.float64), w], axis=1)
        cached = (np.exp(-keep), table.reshape(len(w), -1))
        object.__setattr__(model, "_reach", cached)
    return cached


def _assess_group(
    kb: KnowledgeBase,
    model: CompiledModel,
    cases: Sequence[Case],
    explain: bool,
    where: Sequence[int],
    out: list[Assessment | None],
) -> None:
    people = [c.person(model) for c in cases]
    priors, evidence = encode_evidence(
        model, [(p, c.evidence(model)) for p, c in zip(people, cases, strict=True)]
    )
    # The cases first; then the findings left out one at a time, for those that could move a
    # probability far enough to be listed (``_variants`` reads the case's own posteriors).
    bases = posterior_rows(model, priors, evidence)
    quiet = quiet_absent_many(model, cases, bases) if explain else [frozenset()] * len(cases)
    plans = [_variants(model, c, q) if explain else [] for c, q in zip(cases, quiet, strict=True)]
    sizes = np.array([len(v) for v in plans], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    owner = np.repeat(np.arange(len(cases)), sizes)
    rows_priors = priors[owner]
    rows_evidence = evidence[owner]
    positions = model.finding_positions
    for g, plan in enumerate(plans):
        for i, (f, person) in enumerate(plan):
            row = starts[g] + i
            if person is None:
                rows_evidence[row, positions[f]] = -1
            else:
                rows_priors[row] = model.priors(person)
    posts = posterior_rows(model, rows_priors, rows_evidence) if len(owner) else []
    for g, case in enumerate(cases):
        start = int(starts[g])
        without = {f: posts[start + i].conditions for i, (f, _) in enumerate(plans[g])}
        built = _build(kb, model, case, bases[g], without)
        out[where[g]] = built if explain else dataclasses.replace(built, explained=False)


def _assess_wide(
    kb: KnowledgeBase, model: CompiledModel, case: Case, explain: bool = True
) -> Assessment:
    person, evidence = case.person(model), case.evidence(model)
    post = posterior_wide(model, person, evidence)[0]
    plan = _variants(model, case, quiet_absent(model, case, post)) if explain else []
    leave_out = [f for f, p in plan if p is None]
    explain = explain and explanation_cost(model, person, evidence, leave_out) <= EXPLAIN_BUDGET
    by_finding = {}
    if explain and plan:
        _, without = posterior_wide(model, person, evidence, leave_out)
        rows = iter(without)
        for f, other in plan:
            if other is None:
                by_finding[f] = next(rows)
            else:  # a sport left out: the same evidence for a person who does not do it
                by_finding[f] = posterior_wide(model, other, evidence)[0].conditions
    return dataclasses.replace(_build(kb, model, case, post, by_finding), explained=explain)


def _build(
    kb: KnowledgeBase,
    model: CompiledModel,
    case: Case,
    post: Posterior,
    without: dict[str, FloatArray],
) -> Assessment:
    priors, before = person_priors(model, case.person(model))
    names = list(without)
    left_out = np.array([without[f] for f in names]) if names else np.zeros((0, model.n_conditions))
    return Assessment(
        case=case,
        pain_source={g: post.sources[g] for g in SOURCE_GROUPS},
        nerve_roots=dict(zip(model.root_ids, post.roots.tolist(), strict=True)),
        knowledge_base_version=model.knowledge_base_version,
        posterior=post,
        source_before=dict(before),
        explanation=_Explanation(
            kb, model, priors, names, [case.findings[f] for f in names], left_out
        ),
    )


@lru_per(8)
def _conditions(kb: KnowledgeBase, model: CompiledModel) -> list[Condition]:
    return [kb.condition(c) for c in model.condition_ids]


@lru_per(4096)
def person_priors(model: CompiledModel, person: Person) -> tuple[FloatArray, dict[str, float]]:
    """The person's condition priors (read-only) and pain-source probabilities before any
    answer, kept on the model: a batch holds few distinct people (age, sex and sports)."""
    priors = model.priors(person)
    priors.setflags(write=False)
    return priors, source_before(model, priors)
