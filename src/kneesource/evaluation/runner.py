"""Run the engine on cases with known answers and summarise how often it is right.

An :class:`Outcome` records, for one case, the truth and what the engine said (differential,
pain source, nerve root, triage). :func:`summarise` turns a list of outcomes into the metrics of
:mod:`kneesource.evaluation.metrics`. Vignettes and synthetic patients share this path; only the
truth differs (a vignette has one diagnosis, a synthetic patient may have several causes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kneesource.assessment import Assessment, leading_source, source_before
from kneesource.case import Case
from kneesource.engine import Engine
from kneesource.evaluation.metrics import (
    ReliabilityBin,
    TriageMetrics,
    brier_score,
    expected_calibration_error,
    rank_of,
    reliability_bins,
    top_k_accuracy,
    triage_metrics,
)
from kneesource.evaluation.simulator import SimulatedPatient
from kneesource.evaluation.vignettes import TRIAGE_LEVELS, Vignette
from kneesource.inference.exact import posterior_batch

# Cases are assessed in batches this size, so a progress bar can move between batches.
BATCH = 8
# A nerve root counts as "called" when its posterior reaches this probability.
ROOT_CALLED = 0.5


@dataclass(frozen=True)
class Truth:
    case: Case
    label: str  # the split ("tune", "held_out") or "simulated"
    conditions: tuple[str, ...]  # present conditions; for a vignette the diagnosis comes first
    sources: tuple[str, ...]
    roots: tuple[str, ...]
    triage: str | None
    red_flag: bool


@dataclass(frozen=True)
class Outcome:
    truth: Truth
    ranking: tuple[str, ...]
    probabilities: tuple[float, ...]  # in ranking order
    source_predicted: str
    root_predicted: str
    root_probability: float
    triage_predicted: str | None

    @property
    def case_id(self) -> str:
        return self.truth.case.case_id or ""

    @property
    def rank(self) -> int:
        return rank_of(self.ranking, self.truth.conditions)

    @property
    def top(self) -> str:
        return self.ranking[0]

    @property
    def truth_probability(self) -> float:
        """Probability given to the main true condition (the vignette's diagnosis)."""
        return self.probabilities[self.ranking.index(self.truth.conditions[0])]

    @property
    def source_correct(self) -> bool:
        return self.source_predicted in self.truth.sources


def vignette_truth(v: Vignette) -> Truth:
    return Truth(
        case=v.case(),
        label=v.split,
        conditions=v.present,
        sources=(v.pain_source,),
        roots=(v.root,) if v.root else (),
        triage=v.expected_triage,
        red_flag=v.red_flag,
    )


def simulated_truth(engine: Engine, patient: SimulatedPatient, case_id: str) -> Truth:
    groups = dict(zip(engine.model.condition_ids, engine.model.groups, strict=True))
    return Truth(
        case=patient.case(engine.model, case_id),
        label="simulated",
        conditions=patient.conditions,
        sources=tuple(sorted({groups[c] for c in patient.conditions})),
        roots=patient.roots,
        triage=None,
        red_flag=False,
    )


def _outcome(truth: Truth, a: Assessment) -> Outcome:
    root, root_p = max(a.nerve_roots.items(), key=lambda kv: kv[1])
    return Outcome(
        truth=truth,
        ranking=tuple(c.id for c in a.conditions),
        probabilities=tuple(c.probability for c in a.conditions),
        source_predicted=a.leading_source,
        root_predicted=root,
        root_probability=root_p,
        triage_predicted=a.triage.level if a.triage is not None else None,
    )


def run(
    engine: Engine,
    truths: Sequence[Truth],
    advance: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Assess every case; ``advance(k)`` is called after each batch of ``k`` cases."""
    out: list[Outcome] = []
    for start in range(0, len(truths), BATCH):
        chunk = truths[start : start + BATCH]
        assessments = engine.assess_many([t.case for t in chunk])
        out.extend(_outcome(t, a) for t, a in zip(chunk, assessments, strict=True))
        if advance is not None:
            advance(len(chunk))
    return out


@dataclass(frozen=True)
class Summary:
    n: int
    top1: float
    top3: float
    source_accuracy: float
    root_cases: int
    root_accuracy: float  # argmax root equals the true root, over cases with a root
    root_false_alarm: float  # some root called in cases without root involvement
    brier: float
    ece: float
    reliability: tuple[ReliabilityBin, ...]
    top1_ece: float  # calibration of the top condition's probability as "it is right"
    triage: TriageMetrics | None
    red_flags: int


def summarise(outcomes: Sequence[Outcome], n_bins: int = 10) -> Summary:
    ranks = [o.rank for o in outcomes]
    probs: list[float] = []
    labels: list[bool] = []
    for o in outcomes:
        present = set(o.truth.conditions)
        probs.extend(o.probabilities)
        labels.extend(c in present for c in o.ranking)
    with_root = [o for o in outcomes if o.truth.roots]
    without_root = [o for o in outcomes if not o.truth.roots]
    triaged = [o for o in outcomes if o.truth.triage is not None]
    triage = None
    if triaged and all(o.triage_predicted is not None for o in triaged):
        triage = triage_metrics(
            [str(o.truth.triage) for o in triaged],
            [str(o.triage_predicted) for o in triaged],
            TRIAGE_LEVELS,
        )
    nan = math.nan
    return Summary(
        n=len(outcomes),
        top1=top_k_accuracy(ranks, 1),
        top3=top_k_accuracy(ranks, 3),
        source_accuracy=(
            sum(o.source_correct for o in outcomes) / len(outcomes) if outcomes else nan
        ),
        root_cases=len(with_root),
        root_accuracy=(
            sum(o.root_predicted in o.truth.roots for o in with_root) / len(with_root)
            if with_root
            else nan
        ),
        root_false_alarm=(
            sum(o.root_probability >= ROOT_CALLED for o in without_root) / len(without_root)
            if without_root
            else nan
        ),
        brier=brier_score(probs, labels),
        ece=expected_calibration_error(probs, labels, n_bins),
        reliability=tuple(reliability_bins(probs, labels, n_bins)),
        top1_ece=expected_calibration_error(
            [o.probabilities[0] for o in outcomes], [r == 1 for r in ranks], n_bins
        ),
        triage=triage,
        red_flags=sum(o.truth.red_flag for o in outcomes),
    )


def run_posteriors(
    engine: Engine,
    truths: Sequence[Truth],
    advance: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Like :func:`run` but from the posteriors alone (no evidence lists, no triage): the fast
    path for many synthetic patients."""
    model = engine.model
    out: list[Outcome] = []
    step = BATCH * 16
    for start in range(0, len(truths), step):
        chunk = truths[start : start + step]
        posts = posterior_batch(
            model, [(t.case.person(model), t.case.evidence(model)) for t in chunk]
        )
        for t, post in zip(chunk, posts, strict=True):
            order = sorted(range(model.n_conditions), key=lambda i: -post.conditions[i])
            j = max(range(len(model.root_ids)), key=lambda r: post.roots[r])
            after: dict[str, float] = {g: p for g, p in post.sources.items()}
            before = source_before(model, model.priors(t.case.person(model)))
            lead = leading_source(after, before)
            out.append(
                Outcome(
                    truth=t,
                    ranking=tuple(model.condition_ids[i] for i in order),
                    probabilities=tuple(float(post.conditions[i]) for i in order),
                    source_predicted=lead,
                    root_predicted=model.root_ids[j],
                    root_probability=float(post.roots[j]),
                    triage_predicted=None,
                )
            )
        if advance is not None:
            advance(len(chunk))
    return out
