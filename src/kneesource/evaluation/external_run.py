"""Score the engine, and the interview, on the external case reports.

The same metrics as the own vignettes, with what published cases need besides: accuracy is
counted over the cases whose final diagnosis is a condition of the model (the others still count
for the pain source and the triage), the pain source is broken down by the true source, triage
errors are split into under- and over-triage (and by two levels), and the interview is run on
each case by a simulated patient who answers from the case and says "don't know" to everything
else.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kneesource.case import Case
from kneesource.engine import Engine
from kneesource.evaluation.external import ExternalCase
from kneesource.evaluation.metrics import (
    ReliabilityBin,
    TriageMetrics,
    expected_calibration_error,
    reliability_bins,
    top_k_accuracy,
    triage_metrics,
)
from kneesource.evaluation.runner import Outcome, Truth, run
from kneesource.evaluation.vignettes import TRIAGE_LEVELS
from kneesource.interview import Question, QuestionBank, assessment, start
from kneesource.interview.simulate import run_interview, simulated_answer
from kneesource.interview.state import Value
from kneesource.interview.triage_link import question_bank
from kneesource.kb.schema import SOURCE_GROUPS

RANK: dict[str, int] = {level: i for i, level in enumerate(TRIAGE_LEVELS)}


def truth(case: ExternalCase) -> Truth:
    s = case.source
    return Truth(
        case=case.case(),
        label=case.split,
        conditions=(case.mapping.diagnosis,) if case.mapping.diagnosis else (),
        sources=(s.diagnosis_group,),
        roots=(),
        triage=s.expected_triage,
        red_flag=s.red_flag,
    )


@dataclass(frozen=True)
class InterviewResult:
    case_id: str
    questions: int
    rank: int | None  # of the diagnosis (len + 1 if unranked); None: not a condition of the model
    source_correct: bool
    level: str
    level_assess: str  # the level `assess` gives on everything the case says


@dataclass(frozen=True)
class ExternalSummary:
    n: int
    diagnosed: int
    top1: float
    top3: float
    source: float
    by_source: dict[str, tuple[int, int]]  # true source -> (right, cases)
    triage: TriageMetrics
    under_by_two: int
    over_to_urgent: float  # share sent to urgent or emergency among those who needed less
    ece: float
    reliability: tuple[ReliabilityBin, ...]
    interview: tuple[InterviewResult, ...]

    @property
    def interview_top3(self) -> float:
        ranks = [r.rank for r in self.interview if r.rank is not None]
        return top_k_accuracy(ranks, 3) if ranks else math.nan

    @property
    def interview_source(self) -> float:
        runs = self.interview
        return sum(r.source_correct for r in runs) / len(runs) if runs else math.nan

    @property
    def interview_median(self) -> float:
        runs = self.interview
        return statistics.median(r.questions for r in runs) if runs else math.nan

    @property
    def interview_below_assess(self) -> int:
        return sum(RANK[r.level] < RANK[r.level_assess] for r in self.interview)


def summarise_external(
    outcomes: Sequence[Outcome], interview: Sequence[InterviewResult] = ()
) -> ExternalSummary:
    diagnosed = [o for o in outcomes if o.truth.conditions]
    ranks = [o.rank for o in diagnosed]
    by_source: dict[str, tuple[int, int]] = {}
    for group in SOURCE_GROUPS:
        cases = [o for o in outcomes if o.truth.sources[0] == group]
        if cases:
            by_source[group] = (sum(o.source_correct for o in cases), len(cases))
    expected = [str(o.truth.triage) for o in outcomes]
    given = [str(o.triage_predicted) for o in outcomes]
    diffs = [RANK[g] - RANK[e] for e, g in zip(expected, given, strict=True)]
    needed_less = [
        RANK[g] >= RANK["urgent"]
        for e, g in zip(expected, given, strict=True)
        if RANK[e] < RANK["urgent"]
    ]
    probs: list[float] = []
    labels: list[bool] = []
    for o in diagnosed:
        probs.extend(o.probabilities)
        labels.extend(c == o.truth.conditions[0] for c in o.ranking)
    return ExternalSummary(
        n=len(outcomes),
        diagnosed=len(diagnosed),
        top1=top_k_accuracy(ranks, 1),
        top3=top_k_accuracy(ranks, 3),
        source=sum(o.source_correct for o in outcomes) / len(outcomes) if outcomes else math.nan,
        by_source=by_source,
        triage=triage_metrics(expected, given, TRIAGE_LEVELS),
        under_by_two=sum(d <= -2 for d in diffs),
        over_to_urgent=sum(needed_less) / len(needed_less) if needed_less else math.nan,
        ece=expected_calibration_error(probs, labels, 10),
        reliability=tuple(reliability_bins(probs, labels, 10)),
        interview=tuple(interview),
    )


def run_external(
    engine: Engine, cases: Sequence[ExternalCase], advance: Callable[[int], None] | None = None
) -> list[Outcome]:
    """Assess every scorable case (a source that gives no age cannot be assessed)."""
    return run(engine, [truth(c) for c in cases if c.scorable], advance)


def _responder(bank: QuestionBank, case: Case) -> Callable[[Question], Value]:
    return lambda q: simulated_answer(bank.get(q.id), case)


def interview_external(
    engine: Engine,
    cases: Sequence[ExternalCase],
    outcomes: Sequence[Outcome],
    advance: Callable[[int], None] | None = None,
) -> list[InterviewResult]:
    """Run the clinician-mode interview on each case (the sources record examinations), the
    simulated patient answering from the case and "don't know" to everything else."""
    bank = question_bank(engine)
    levels = {o.case_id: str(o.triage_predicted) for o in outcomes}
    out = []
    for c in cases:
        if not c.scorable:
            continue
        case = c.case()
        state, asked = run_interview(start(engine, mode="clinician"), _responder(bank, case))
        result = assessment(state, case_id=c.id)
        ranking = [x.id for x in result.conditions]
        dx = c.mapping.diagnosis
        rank = None if dx is None else ranking.index(dx) + 1
        assert result.triage is not None
        out.append(
            InterviewResult(
                case_id=c.id,
                questions=len(asked),
                rank=rank,
                source_correct=result.leading_source == c.source.diagnosis_group,
                level=result.triage.level,
                level_assess=levels[c.id],
            )
        )
        if advance is not None:
            advance(1)
    return out
