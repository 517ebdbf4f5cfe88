"""Assessments: posteriors turned into a ranked differential with the evidence behind each rank.

For every condition, each observed finding is scored by how much it moved that condition: the
probability is recomputed with the finding left out (``probability_without``). A finding that
raised the probability supports the condition; one that lowered it conflicts with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kneesource.case import Case
from kneesource.inference.exact import (
    EXPLAIN_BUDGET,
    Posterior,
    explanation_cost,
    fits_kernel,
    posterior_batch,
    posterior_wide,
)
from kneesource.inference.junction import FloatArray
from kneesource.kb.loader import KnowledgeBase
from kneesource.kb.schema import SOURCE_GROUPS
from kneesource.model.compiled import CompiledModel

if TYPE_CHECKING:  # triage depends on assessments, not the other way round
    from kneesource.triage import Triage

NOTICE = (
    "kneesource is decision support, not a diagnosis. It cannot examine you. If you are worried, "
    "or the pain is severe or getting worse, see a clinician."
)
# A finding whose removal changes a probability by less than this is not listed as evidence.
MIN_EFFECT = 0.001


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
    triage: Triage | None = None  # filled by ``Engine.assess`` / ``assess_many``
    # False when the case was too wide to re-run once per finding within ``EXPLAIN_BUDGET``:
    # the probabilities are exact, the supporting and conflicting lists are left empty.
    explained: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.case.case_id is not None:
            out["case_id"] = self.case.case_id
        out["notice"] = NOTICE
        if self.triage is not None:
            out["triage"] = self.triage.to_dict()
        out["conditions"] = [c.to_dict() for c in self.conditions]
        out["pain_source"] = {k: round(v, 6) for k, v in self.pain_source.items()}
        out["nerve_roots"] = {k: round(v, 6) for k, v in self.nerve_roots.items()}
        out["knowledge_base_version"] = self.knowledge_base_version
        out["explained"] = self.explained
        return out


def assess_cases(
    kb: KnowledgeBase, model: CompiledModel, cases: Sequence[Case]
) -> list[Assessment]:
    """Assess many cases. Every leave-one-finding-out variant of a case the compiled kernel can
    hold runs in one batch; a wider case runs by bucket elimination, its variants as rows of the
    same pass (or without them, beyond the explanation budget)."""
    queries: list[Case] = []
    spans: list[tuple[int, list[str]]] = []
    wide: dict[int, Assessment] = {}
    for k, case in enumerate(cases):
        evidence = case.evidence(model)
        if not fits_kernel(model, evidence):
            wide[k] = _assess_wide(kb, model, case)
            continue
        observed = list(case.findings)
        spans.append((len(queries), observed))
        queries.append(case)
        queries.extend(case.without(f) for f in observed)
    posts = posterior_batch(model, [(q.person(model), q.evidence(model)) for q in queries])
    narrow = iter(spans)
    out = []
    for k, case in enumerate(cases):
        if k in wide:
            out.append(wide[k])
            continue
        start, observed = next(narrow)
        without = {f: posts[start + 1 + i].conditions for i, f in enumerate(observed)}
        out.append(_build(kb, model, case, posts[start], without))
    return out


def _assess_wide(kb: KnowledgeBase, model: CompiledModel, case: Case) -> Assessment:
    person, evidence = case.person(model), case.evidence(model)
    observed = list(case.findings)
    explain = explanation_cost(model, person, evidence) <= EXPLAIN_BUDGET
    # Case findings and evidence share their ids (triage-only findings are not evidence and
    # change no probability, so leaving one out changes nothing).
    leave_out = [f for f in observed if f in evidence] if explain else []
    post, without = posterior_wide(model, person, evidence, leave_out)
    by_finding = {f: without[i] for i, f in enumerate(leave_out)}
    if explain:
        by_finding.update({f: post.conditions for f in observed if f not in evidence})
    return dataclasses.replace(_build(kb, model, case, post, by_finding), explained=explain)


def _build(
    kb: KnowledgeBase,
    model: CompiledModel,
    case: Case,
    post: Posterior,
    without: dict[str, FloatArray],
) -> Assessment:
    priors = model.priors(case.person(model))
    ranked = []
    for i in np.argsort(-post.conditions, kind="stable"):
        cond = kb.condition(model.condition_ids[i])
        p = float(post.conditions[i])
        effects = [EvidenceItem(f, case.findings[f], float(w[i])) for f, w in without.items()]
        supporting = sorted(
            (e for e in effects if p - e.probability_without >= MIN_EFFECT),
            key=lambda e: e.probability_without - p,
        )
        conflicting = sorted(
            (e for e in effects if e.probability_without - p >= MIN_EFFECT),
            key=lambda e: p - e.probability_without,
        )
        ranked.append(
            RankedCondition(
                id=cond.id,
                name=cond.name,
                clinical_name=cond.clinical_name,
                source=cond.source_group,
                serious=cond.serious,
                prior=float(priors[i]),
                probability=p,
                supporting=tuple(supporting),
                conflicting=tuple(conflicting),
            )
        )
    return Assessment(
        case=case,
        conditions=tuple(ranked),
        pain_source={g: post.sources[g] for g in SOURCE_GROUPS},
        nerve_roots={r: float(post.roots[j]) for j, r in enumerate(model.root_ids)},
        knowledge_base_version=model.knowledge_base_version,
        posterior=post,
    )
