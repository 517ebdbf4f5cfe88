"""The library API: ``start``, ``next_question``, ``answer``, ``back``, ``assessment``.

Every function takes a :class:`State` and returns a new value; none keeps hidden state, so the
same state always gives the same question, rationale and assessment. Order of questions:

1. the opening (age, sex, main complaint), in file order;
2. the red-flag screen, in file order, never skipped;
3. warning-sign follow-ups (``followup``): the rest of an urgent rule an answer has half met;
4. adaptive questions, best expected value first (``selection``), until the stopping rule holds.

Stopping rule (after 1 to 3; ``policy`` numbers from ``questions.yaml``):
stop when ``max_questions`` have been asked (follow-ups are asked even past it), or no question
is left, or no answer at least ``answer_floor`` likely to any question of the shortlist scored
exactly (``shortlist``) would change the triage level AND one of: the leading cause is clear
(probability >= ``clear_probability`` and ahead of the second by >= ``clear_margin``); no answer
at least ``top3_answer_floor`` likely would change the top three (a cause at least ``top3_floor``
times as likely as the leader entering or leaving them, ``selection.top3_moves``); the best
question's expected gain is below ``min_gain_bits`` and some cause is at least
``little_gain_leader`` likely. Before stopping, the likely answers of the shortlist are checked
with the full triage level, and the answers as they would stand with "no" to everything still
askable (``nothing_more_to_report``); if either would change the level, the interview goes on.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kneesource.assessment import Assessment
from kneesource.case import Case
from kneesource.engine import Engine, default_engine
from kneesource.errors import InputError
from kneesource.inference.exact import row_cost
from kneesource.interview.followup import follow_up
from kneesource.interview.questions import Mode, Policy, QuestionBank, QuestionSpec, question_text
from kneesource.interview.screening import approximate_presence, approximate_scores
from kneesource.interview.selection import (
    Baseline,
    Evaluation,
    baseline_of,
    evaluate,
    question_rows,
    ranked,
)
from kneesource.interview.state import (
    Answer,
    State,
    age_sex,
    case_of,
    findings_of,
    normalise,
    unsure_findings,
)
from kneesource.interview.triage_link import (
    interview_level_function,
    level_cost,
    levels,
    question_bank,
    quick_level_function,
)
from kneesource.interview.why import Why, adaptive_why, fixed_why, follow_up_why
from kneesource.owned import lru_per

StopReason = Literal[
    "hard_maximum", "no_questions_left", "leader_clear", "top3_settled", "little_to_gain"
]
STOP_REASONS: dict[StopReason, str] = {
    "hard_maximum": "the maximum number of questions has been asked",
    "no_questions_left": "there is nothing left to ask",
    "leader_clear": "the leading cause is clear and no answer could change the urgency",
    "top3_settled": "no likely answer could change the urgency or the three leading causes",
    "little_to_gain": "no question left would tell much more, or change the urgency",
}


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class Question:
    """The question to ask now, with its reason and where the interview stands."""

    id: str
    phase: str
    type: str
    text: str
    options: tuple[Option, ...]
    how_to: str | None
    number: int
    max_questions: int
    why: Why


@dataclass(frozen=True)
class Plan:
    """What comes next: a question, or the reason to stop."""

    question: Question | None
    stop_reason: StopReason | None
    baseline: Baseline | None
    evaluations: tuple[Evaluation, ...]


# The engines interviews were started on, by knowledge base version; an engine stays here only
# while something else holds it (the shipped one is always held by ``default_engine``).
_ENGINES: weakref.WeakValueDictionary[str, Engine] = weakref.WeakValueDictionary()


def start(engine: Engine | None = None, *, mode: Mode = "patient") -> State:
    """A new, empty interview on ``engine`` (the shipped knowledge base by default)."""
    if mode not in ("patient", "clinician"):
        raise InputError(f"mode must be 'patient' or 'clinician', got {mode!r}")
    engine = engine or default_engine()
    question_bank(engine)  # validates the questions before the first one is asked
    _ENGINES.setdefault(engine.model.knowledge_base_version, engine)
    return State(mode=mode, knowledge_base_version=engine.model.knowledge_base_version)


def engine_for(state: State) -> Engine:
    """The engine a state belongs to; refuses a state saved with another knowledge base."""
    engine = _ENGINES.get(state.knowledge_base_version)
    if engine is None:
        engine = default_engine()
        if engine.model.knowledge_base_version != state.knowledge_base_version:
            raise InputError(
                f"this interview was started with knowledge base {state.knowledge_base_version}, "
                f"but the one installed is {engine.model.knowledge_base_version}; "
                "start a new interview"
            )
    return engine


def answer(state: State, question_id: str, value: object) -> State:
    """A new state with ``value`` as the answer to ``question_id`` (replacing an earlier one)."""
    bank = question_bank(engine_for(state))
    spec = bank.get(question_id)
    if spec.clinician_only and state.mode != "clinician":
        raise InputError(f"question {question_id!r} is an exam test, asked in clinician mode only")
    canonical = normalise(spec, value)
    kept = tuple(a for a in state.answers if a.question != question_id)
    return State(state.mode, state.knowledge_base_version, (*kept, Answer(question_id, canonical)))


def back(state: State) -> State:
    """The state before the last answer (unchanged if nothing has been answered)."""
    return State(state.mode, state.knowledge_base_version, state.answers[:-1])


def next_question(state: State) -> Question | None:
    """The question to ask now, or ``None`` when the stopping rule holds."""
    return plan(state).question


def stop_reason(state: State) -> StopReason | None:
    return plan(state).stop_reason


def assessment(state: State, case_id: str | None = None) -> Assessment:
    """The full assessment of the answers so far (as ``kneesource assess`` gives it). The same
    answers are assessed once per engine (the result page, its report and the API's last
    answer all show the same one; for a person with many findings it costs a second or more)."""
    return _assessment(engine_for(state), (state, case_id))


@lru_per(64)
def _assessment(engine: Engine, key: tuple[State, str | None]) -> Assessment:
    state, case_id = key
    return engine.assess(case_of(question_bank(engine), state, case_id))


def plan(state: State) -> Plan:
    engine = engine_for(state)
    return _plan(engine, state)


def askable(bank: QuestionBank, state: State) -> list[QuestionSpec]:
    """Questions for this mode and person not yet answered, in file order, checklists without
    the options an earlier answer settled. Opening and screen questions are always asked. An
    adaptive one must still settle something unknown that the person has not already said they
    do not know: after "don't know" to a checklist, or "not sure" to some of its options, those
    findings are not asked again one by one (a finding of the red-flag screen still can be)."""
    age, sex = age_sex(bank, state)
    known = findings_of(bank, state)
    unsure: set[str] = set()
    for a in state.answers:
        spec = bank.get(a.question)
        if spec.phase == "adaptive":
            unsure.update(unsure_findings(spec, a.value))
    out = []
    for q in bank.for_mode(state.mode):
        if state.answered(q.id) or not q.applies(age, sex):
            continue
        if q.ask_if is not None and q.ask_if.excluded_by(known):
            continue  # a question about an injury after every kind of injury was answered no
        if q.phase == "adaptive" and all(f in known or f in unsure for f in q.findings()):
            continue
        if q.type == "multi":
            # A checklist shows only the options not settled by an earlier answer ("a dull
            # ache" ticked where it hurts is not offered again among the kinds of pain).
            left = [o for o in q.options if o.finding is None or o.finding not in known]
            if not left:
                continue
            if len(left) < len(q.options):
                q = q.model_copy(update={"options": left})
        out.append(q)
    return out


@lru_per(256)
def _plan(engine: Engine, state: State) -> Plan:
    bank = question_bank(engine)
    policy = bank.policy
    number = len(state.answers) + 1
    todo = askable(bank, state)
    fixed = [q for q in todo if q.phase != "adaptive"]
    if fixed:
        return Plan(
            _question(engine, fixed[0], number, policy.max_questions, fixed_why(fixed[0])),
            None,
            None,
            (),
        )
    case = case_of(bank, state)
    baseline = baseline_of(engine.model, case, interview_level_function(engine))
    extra = follow_up(engine.rules, todo, case.findings, case.age, baseline.level)
    if extra is not None:
        why = follow_up_why(engine.kb, extra)
        spec = extra.question
        question = _question(engine, spec, number, policy.max_questions, why, phase="screen")
        return Plan(question, None, baseline, ())
    if len(state.answers) >= policy.max_questions:
        return Plan(None, "hard_maximum", baseline, ())
    evaluations = evaluate(
        engine.model,
        policy,
        baseline,
        shortlist(engine, baseline, todo, policy),
        quick_level_function(engine),
        approximate_presence(engine.model, baseline.posterior.conditions),
    )
    if not evaluations:
        return Plan(None, "no_questions_left", baseline, ())
    best = ranked(evaluations)
    reason = _stop(baseline, best, bank)
    if reason is not None:
        held = _full_level_changes(engine, baseline, best, policy)
        if held is None and nothing_more_raises_level(engine, baseline, todo):
            held = best[0]
        if held is None:
            asked_first = before_stopping(bank, case.findings, todo)
            if asked_first is not None:
                spec, why_text = asked_first
                question = _question(engine, spec, number, policy.max_questions, Why(why_text))
                return Plan(question, None, baseline, tuple(best))
        if held is None and state.mode == "clinician":
            held = confirming_test(bank, state, best)
        if held is None:
            return Plan(None, reason, baseline, tuple(best))
        best = [held, *(e for e in best if e is not held)]
    why = adaptive_why(
        engine.kb, engine.model.condition_ids, baseline, best[0], policy.answer_floor
    )
    question = _question(engine, best[0].question, number, policy.max_questions, why)
    return Plan(question, None, baseline, tuple(best))


def before_stopping(
    bank: QuestionBank, known: Mapping[str, bool], todo: list[QuestionSpec]
) -> tuple[QuestionSpec, str] | None:
    """The question ``policy.before_stopping`` asks before the interview may stop, with its
    reason: the first still askable question of the first entry whose trigger is present."""
    askable_now = {q.id: q for q in todo}
    for rule in bank.policy.before_stopping:
        if any(known.get(f) for f in rule.when):
            for qid in rule.ask:
                if qid in askable_now:
                    return askable_now[qid], " ".join(rule.why.split())
    return None


def confirming_test(bank: QuestionBank, state: State, best: list[Evaluation]) -> Evaluation | None:
    """Clinician mode, when the interview would stop: the examination test that would most
    change the top three causes (then the most informative one), if any would change them at all
    and none has just been done. One test is offered each time the interview would stop, so a
    clinician who examines sees the confirming test (Lachman for a suspected ACL tear) before
    the result, and can still finish at once."""
    if state.answers and bank.get(state.answers[-1].question).clinician_only:
        return None
    tests = [e for e in best if e.question.clinician_only and (e.gain_top3 > 0 or e.score > 0)]
    if not tests:
        return None
    return max(tests, key=lambda e: (e.gain_top3, e.score))


def shortlist(
    engine: Engine, baseline: Baseline, todo: list[QuestionSpec], policy: Policy
) -> list[QuestionSpec]:
    """The questions scored exactly: the best ``shortlist_information`` by approximate gain and
    the best ``shortlist_serious`` by approximate change to serious conditions (file order).

    Exact scoring costs about twice as much for every present finding, so past
    ``shortlist_full_up_to`` present findings each further one halves both numbers, down to
    ``shortlist_minimum``. The work is then measured (the questions' inference rows times
    ``row_cost``): past ``policy.work_budget`` the questions are kept best first, taking the
    two lists in turn, while they fit (the best one always), so no answer waits long."""
    model = engine.model
    serious = np.array([engine.kb.condition(c).serious for c in model.condition_ids], float)
    person = baseline.case.person(model)
    scores = approximate_scores(model, person, baseline.posterior.conditions, todo, serious)
    by_gain = sorted(range(len(todo)), key=lambda i: (-scores[i][0], i))
    by_serious = sorted(range(len(todo)), key=lambda i: (-scores[i][1], i))
    present = sum(baseline.case.evidence(model).values())
    share = 0.5 ** max(0, present - policy.shortlist_full_up_to)
    least_information, least_serious = policy.shortlist_minimum
    keep = set(by_gain[: max(least_information, round(policy.shortlist_information * share))])
    keep |= set(by_serious[: max(least_serious, round(policy.shortlist_serious * share))])
    per_row = row_cost(model, baseline.case.evidence(model), baseline.case.person(model))
    cost = {i: per_row * len(question_rows(model, todo[i], baseline.case)[1]) for i in keep}
    if sum(cost.values()) > policy.work_budget:
        turns = [i for pair in zip(by_gain, by_serious, strict=True) for i in pair if i in keep]
        kept: list[int] = []
        spent = 0
        for i in dict.fromkeys(turns):
            if kept and spent + cost[i] > policy.work_budget:
                continue
            kept.append(i)
            spent += cost[i]
        keep = set(kept)
    return [todo[i] for i in sorted(keep)]


def _stop(baseline: Baseline, best: list[Evaluation], bank: QuestionBank) -> StopReason | None:
    policy = bank.policy
    if any(e.changes_triage for e in best):
        return None
    p = sorted(baseline.posterior.conditions.tolist(), reverse=True)
    if p[0] >= policy.clear_probability and p[0] - p[1] >= policy.clear_margin:
        return "leader_clear"
    if not any(e.changes_top3 for e in best):
        return "top3_settled"
    if p[0] >= policy.little_gain_leader and (
        max(e.gain_conditions + e.gain_source for e in best) < policy.min_gain_bits
    ):
        return "little_to_gain"
    return None


def _full_level_changes(
    engine: Engine, baseline: Baseline, best: list[Evaluation], policy: Policy
) -> Evaluation | None:
    """The first question (best first) with an answer at least ``answer_floor`` likely that
    would change the full triage level, or None.

    Answers are scored with the quick level, which can be lower than the full one where a
    warning sign explains a serious cause away. Before the interview stops, the likely answers
    of every shortlisted question are checked with the full level, question by question. Two
    kinds of answer change it without inference: one with no warning sign and another quick
    level (without a warning sign the two levels are the same), and one whose quick level is
    above the level now (up to ``MAX_COMBINED`` warning signs the full level is never below
    the quick one; past that it can be, and asking is then the safe side). The others cost the
    combinations of warning signs, measured before they run (``level_cost``): within
    ``policy.work_budget`` in all they are checked, past it an answer keeps its quick level,
    so no answer waits long for its next question."""
    watched = engine.rules.warning_findings_at(baseline.case.age)
    spent = 0
    for evaluation in best:
        likely = [o for o in evaluation.outcomes if o.probability >= policy.answer_floor]
        signed = [o for o in likely if any(v and f in watched for f, v in o.case.findings.items())]
        if any(o.level > baseline.level for o in likely) or any(
            o.level != baseline.level for o in likely if o not in signed
        ):
            return evaluation
        cost = sum(level_cost(engine, o.case, o.posterior) for o in signed)
        if not signed or spent + cost > policy.work_budget:
            continue
        spent += cost
        if any(
            level != baseline.level
            for level in levels(engine, [(o.case, o.posterior) for o in signed])
        ):
            return evaluation
    return None


def nothing_more_to_report(case: Case, todo: list[QuestionSpec]) -> Case:
    """The case as it would stand if the person answered "no" to every finding still asked
    about: for most findings the likeliest answer, and together they can matter where none does
    alone (each "no" takes a little from the other explanations)."""
    rest = {f: False for q in todo for f in q.findings() if f not in case.findings}
    return Case(case.age, case.sex, {**case.findings, **rest}, case.case_id)


def nothing_more_raises_level(engine: Engine, baseline: Baseline, todo: list[QuestionSpec]) -> bool:
    """Whether ``nothing_more_to_report`` would make care more urgent than it is now (the
    interview's level, ``interview_level_function``). Checked once the interview would stop:
    answers that each barely move a serious cause can together lift it over its threshold."""
    completed = nothing_more_to_report(baseline.case, todo)
    return baseline_of(engine.model, completed, interview_level_function(engine)).level > (
        baseline.level
    )


def _question(
    engine: Engine, spec: QuestionSpec, number: int, limit: int, why: Why, phase: str | None = None
) -> Question:
    how_to = None
    if spec.type == "yes_no" and spec.finding is not None:
        finding = engine.kb.finding(spec.finding)
        how_to = finding.how_to if finding.kind == "exam" else None
    return Question(
        id=spec.id,
        phase=phase or spec.phase,
        type=spec.type,
        text=question_text(engine.kb, spec),
        options=tuple(Option(o.id, o.label) for o in spec.options),
        how_to=how_to,
        number=number,
        max_questions=limit,
        why=why,
    )
