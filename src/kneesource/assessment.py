"""Assessments: posteriors turned into a ranked differential with the evidence behind each rank.

For every condition, each observed finding is scored by how much it moved that condition: the
probability is recomputed with the finding left out (``probability_without``). A finding that
raised the probability supports the condition; one that lowered it conflicts with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kneesource.case import Case
from kneesource.inference.exact import Posterior, posterior_batch
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
        return out


def assess_cases(
    kb: KnowledgeBase, model: CompiledModel, cases: Sequence[Case]
) -> list[Assessment]:
    """Assess many cases; every leave-one-finding-out variant runs in the same batch."""
    queries: list[Case] = []
    spans: list[tuple[int, list[str]]] = []
    for case in cases:
        observed = list(case.findings)
        spans.append((len(queries), observed))
        queries.append(case)
        queries.extend(case.without(f) for f in observed)
    posts = posterior_batch(model, [(q.person(model), q.evidence(model)) for q in queries])
    out = []
    for case, (start, observed) in zip(cases, spans, strict=True):
        without = {f: posts[start + 1 + i] for i, f in enumerate(observed)}
        out.append(_build(kb, model, case, posts[start], without))
    return out


def _build(
    kb: KnowledgeBase,
    model: CompiledModel,
    case: Case,
    post: Posterior,
    without: dict[str, Posterior],
) -> Assessment:
    priors = model.priors(case.person(model))
    ranked = []
    for i in np.argsort(-post.conditions, kind="stable"):
        cond = kb.condition(model.condition_ids[i])
        p = float(post.conditions[i])
        effects = [
            EvidenceItem(f, case.findings[f], float(w.conditions[i])) for f, w in without.items()
        ]
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
