"""Assessments: posteriors turned into a ranked differential with the evidence behind each rank.

For every condition, each observed finding is scored by how much it moved that condition: the
probability is recomputed with the finding left out (``probability_without``). A finding that
raised the probability supports the condition; one that lowered it conflicts with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from kneesource.case import Case
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
from kneesource.kb.schema import SOURCE_GROUPS
from kneesource.model.compiled import CompiledModel, Person

if TYPE_CHECKING:  # triage depends on assessments, not the other way round
    from kneesource.triage import Triage

NOTICE = (
    "kneesource is decision support, not a diagnosis. It cannot examine you. If you are worried, "
    "or the pain is severe or getting worse, see a clinician."
)
# A finding whose removal changes a probability by less than this is not listed as evidence.
MIN_EFFECT = 0.001
# A log Bayes factor at most this counts as no rise (rounding, not evidence).
_SAME_FACTOR = 1e-9


def source_before(model: CompiledModel, priors: FloatArray) -> dict[str, float]:
    """The probability of a cause in each source group before any answer, from the person's
    priors (``model.priors(person)``): the conditions are independent a priori, so it is one
    minus the product of their prior complements."""
    groups = np.asarray(model.groups)
    return {g: float(1.0 - np.prod(1.0 - priors[groups == g])) for g in SOURCE_GROUPS}


def source_factors(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """How many times the answers multiplied the odds of a cause in each source group (the
    Bayes factor of the answers for that group)."""

    def odds(p: float) -> float:
        return min(max(p, 1e-12), 1.0 - 1e-12) / max(1.0 - p, 1e-12)

    return {g: odds(after[g]) / odds(before[g]) for g in SOURCE_GROUPS}


def leading_source(after: dict[str, float], before: dict[str, float]) -> str:
    """Where the answers point: of the groups whose odds the answers raised, the one they raised
    the most; when they raised none, the most probable group.

    Probabilities alone name the knee almost always, because some knee cause is common in anyone
    with knee pain; what the product has to tell is whether what the person said points
    elsewhere (the hip, the spine, the vessels). A group the answers made less likely is never
    named for being lowered least."""
    factors = source_factors(after, before)
    raised = [g for g in SOURCE_GROUPS if np.log(factors[g]) > _SAME_FACTOR]
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
            "supporting": [e.to_dict() for e in self.supporting],
            "conflicting": [e.to_dict() for e in self.conflicting],
        }


@dataclass(frozen=True)
class Assessment:
    case: Case
    conditions: tuple[RankedCondition, ...]
    pain_source: dict[str, float]
    nerve_roots: dict[str, float]
    knowledge_base_version: str
    posterior: Posterior
    # The pain-source probabilities before any answer, for this age, sex and sports.
    source_before: dict[str, float]
    triage: Triage | None = None  # filled by ``Engine.assess`` / ``assess_many``
    # False when the case was too wide to re-run once per finding within ``EXPLAIN_BUDGET``:
    # the probabilities are exact, the supporting and conflicting lists are left empty.
    explained: bool = True

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
        out["conditions"] = [c.to_dict() for c in self.conditions]
        out["pain_source"] = {k: round(v, 6) for k, v in self.pain_source.items()}
        out["pain_source_before"] = {k: round(v, 6) for k, v in self.source_before.items()}
        out["leading_source"] = self.leading_source
        out["nerve_roots"] = {k: round(v, 6) for k, v in self.nerve_roots.items()}
        out["knowledge_base_version"] = self.knowledge_base_version
        out["explained"] = self.explained
        return out


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


def _variants(model: CompiledModel, case: Case) -> list[tuple[str, Person | None]]:
    """The findings whose removal can change a probability, each with the person to use when
    left out (None: the same person, the finding's evidence removed). A context finding said yes
    (a sport) sets the priors; a triage-only finding or a sport said no changes nothing."""
    out: list[tuple[str, Person | None]] = []
    context = set(model.context_ids)
    for f, value in case.findings.items():
        if f in context:
            if value:
                out.append((f, case.without(f).person(model)))
        elif f not in model.triage_ids:
            out.append((f, None))
    return out


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
    plans = [_variants(model, c) if explain else [] for c in cases]
    sizes = np.array([1 + len(v) for v in plans])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.repeat(np.arange(len(cases)), sizes)
    rows_priors = priors[owner]
    rows_evidence = evidence[owner]
    positions = model.finding_positions
    for g, plan in enumerate(plans):
        for i, (f, person) in enumerate(plan):
            row = starts[g] + 1 + i
            if person is None:
                rows_evidence[row, positions[f]] = -1
            else:
                rows_priors[row] = model.priors(person)
    posts = posterior_rows(model, rows_priors, rows_evidence)
    for g, case in enumerate(cases):
        start = int(starts[g])
        without = {f: posts[start + 1 + i].conditions for i, (f, _) in enumerate(plans[g])}
        built = _build(kb, model, case, posts[start], without)
        out[where[g]] = built if explain else dataclasses.replace(built, explained=False)


def _assess_wide(
    kb: KnowledgeBase, model: CompiledModel, case: Case, explain: bool = True
) -> Assessment:
    person, evidence = case.person(model), case.evidence(model)
    explain = explain and explanation_cost(model, person, evidence) <= EXPLAIN_BUDGET
    plan = _variants(model, case) if explain else []
    leave_out = [f for f, p in plan if p is None]
    post, without = posterior_wide(model, person, evidence, leave_out)
    rows = iter(without)
    by_finding = {}
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
    priors = model.priors(case.person(model))
    names = list(without)
    values = [case.findings[f] for f in names]
    # (findings, conditions): how much leaving each finding out would lower each probability.
    effect = (
        post.conditions[None, :] - np.array([without[f] for f in names])
        if names
        else np.zeros((0, model.n_conditions))
    )
    # The findings that moved each condition by at least MIN_EFFECT, in the order given.
    moved: dict[int, list[tuple[float, int]]] = {}
    conds, rows = np.nonzero((np.abs(effect) >= MIN_EFFECT).T)
    for c, k, e in zip(conds.tolist(), rows.tolist(), effect[rows, conds].tolist(), strict=True):
        moved.setdefault(c, []).append((e, k))
    ranked = []
    none: tuple[EvidenceItem, ...] = ()
    probabilities, prior_list = post.conditions.tolist(), priors.tolist()
    for i in np.argsort(-post.conditions, kind="stable").tolist():
        cond = kb.condition(model.condition_ids[i])
        supporting = conflicting = none
        found = moved.get(i)
        if found:  # most conditions are moved by no answer
            # Strongest first; ties keep the order the findings were given in (stable sorts).
            up = sorted((x for x in found if x[0] > 0), key=lambda x: -x[0])
            down = sorted((x for x in found if x[0] < 0), key=lambda x: x[0])
            supporting = tuple(
                EvidenceItem(names[k], values[k], float(without[names[k]][i])) for _, k in up
            )
            conflicting = tuple(
                EvidenceItem(names[k], values[k], float(without[names[k]][i])) for _, k in down
            )
        ranked.append(
            RankedCondition(
                id=cond.id,
                name=cond.name,
                clinical_name=cond.clinical_name,
                source=cond.source_group,
                serious=cond.serious,
                prior=prior_list[i],
                probability=probabilities[i],
                supporting=supporting,
                conflicting=conflicting,
            )
        )
    return Assessment(
        case=case,
        conditions=tuple(ranked),
        pain_source={g: post.sources[g] for g in SOURCE_GROUPS},
        nerve_roots={r: float(post.roots[j]) for j, r in enumerate(model.root_ids)},
        knowledge_base_version=model.knowledge_base_version,
        posterior=post,
        source_before=source_before(model, priors),
    )
