"""Questions as data: ``knowledge/questions.yaml`` read, validated and checked against the kb.

A question has a phase (``opening``: age, sex and the main complaint, asked first in file order;
``screen``: the red-flag screen, always asked, in file order; ``adaptive``: chosen one at a time by
expected value) and an answer type:

* ``age``: whole years; ``sex``: female, male or not given (both set the priors);
* ``yes_no``: sets one finding true (yes) or false (no); the finding defaults to the question id;
* ``single``: one option; the option's ``sets`` gives the findings it settles;
* ``multi``: any number of options, each naming one finding; ticked options set their finding
  true and the others false, so "none of these" settles them all.

Every type also accepts "don't know", which settles nothing. Context findings (the sports a
person does) set priors rather than being caused by a condition; an adaptive checklist of them
gives each option a ``prevalence`` per age band (how common it is, with a ``prevalence_source``),
from which the interview rates how likely each answer is. Exam tests are ``clinician_only``;
their instructions come from the finding's ``how_to`` in the knowledge base, so the wording of a
test lives in one place. Validation reports every problem at once as a
:class:`~kneesource.errors.KnowledgeBaseError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kneesource.errors import KnowledgeBaseError, UnknownIdError
from kneesource.kb.loader import KnowledgeBase, default_knowledge_dir, describe_location, read_yaml
from kneesource.kb.schema import AGE_BANDS, AgeBand, Id, OpenProbability, Source, age_band

AnswerType = Literal["age", "sex", "yes_no", "single", "multi"]
Phase = Literal["opening", "screen", "adaptive"]
Mode = Literal["patient", "clinician"]
PHASES: tuple[Phase, ...] = ("opening", "screen", "adaptive")
# Adaptive checklists stay short enough to read at a glance (the first pass in ``screening``
# still rates every combination of ticks, 2^k of them).
MAX_ADAPTIVE_MULTI_OPTIONS = 4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionSpec(_Strict):
    id: Id
    label: str = Field(min_length=2)
    finding: Id | None = Field(default=None, description="multi: the finding a tick sets true")
    sets: dict[Id, bool] | None = Field(default=None, description="single: findings it settles")
    prevalence: dict[AgeBand, OpenProbability] | None = Field(
        default=None, description="adaptive context checklist: share doing it, per age band"
    )

    def prevalence_at(self, age: int) -> float:
        """How common this option is at ``age`` (adaptive context checklists only)."""
        assert self.prevalence is not None
        return self.prevalence[age_band(age)]


class AskIf(_Strict):
    """Ask only people this question applies to (for example pregnancy: female, 12-55)."""

    sex: Literal["female", "male"] | None = None
    min_age: Annotated[int, Field(ge=0, le=120)] | None = None
    max_age: Annotated[int, Field(ge=0, le=120)] | None = None
    after_any: list[Id] | None = Field(
        default=None,
        description="asked only while one of these may be present: not once all are answered no",
    )

    def excluded_by(self, known: Mapping[str, bool]) -> bool:
        """Whether the answers so far rule the question out (every ``after_any`` finding no)."""
        return bool(self.after_any) and all(known.get(f) is False for f in self.after_any or ())

    def applies(self, age: int | None, sex: str | None) -> bool:
        if self.sex is not None and sex != self.sex:
            return False
        if age is None:
            return self.min_age is None and self.max_age is None
        return (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age <= self.max_age
        )


class QuestionSpec(_Strict):
    id: Id
    phase: Phase
    type: AnswerType
    text: str | None = Field(default=None, min_length=5, description="wording; exam: optional")
    finding: Id | None = None
    options: list[OptionSpec] = Field(default_factory=list)
    clinician_only: bool = False
    why: str | None = Field(default=None, min_length=10, description="plain reason for asking")
    ask_if: AskIf | None = None
    prevalence_source: Source | None = None

    @model_validator(mode="after")
    def _yes_no_finding_defaults_to_id(self) -> QuestionSpec:
        if self.type == "yes_no" and self.finding is None:
            object.__setattr__(self, "finding", self.id)
        return self

    def findings(self) -> tuple[str, ...]:
        """Every finding this question can settle, in order."""
        if self.type == "yes_no":
            return (self.finding,) if self.finding else ()
        out: list[str] = []
        for o in self.options:
            for f in ([o.finding] if o.finding else []) + list(o.sets or {}):
                if f not in out:
                    out.append(f)
        return tuple(out)

    def applies(self, age: int | None, sex: str | None) -> bool:
        """Whether this question is for a person of this age and sex (``ask_if``)."""
        return self.ask_if is None or self.ask_if.applies(age, sex)

    def sets_context(self) -> bool:
        """An adaptive checklist of context findings (validated: each option has prevalences)."""
        return bool(self.options) and all(o.prevalence is not None for o in self.options)

    def option(self, option_id: str) -> OptionSpec:
        for o in self.options:
            if o.id == option_id:
                return o
        raise UnknownIdError("option", option_id, [o.id for o in self.options], where=self.id)


class BeforeStopping(_Strict):
    """Questions asked before the interview may stop, once any finding of ``when`` is present:
    what a clinician would always ask after such an answer, however little the model expects
    it to change."""

    when: list[Id] = Field(min_length=1)
    ask: list[Id] = Field(min_length=1)
    why: str = Field(min_length=10, description="plain reason, shown to the person")
    source: Source


class Policy(_Strict):
    """Numbers of the selection and stopping rules (see docs/interview.md)."""

    max_questions: int = Field(ge=3, le=200, description="hard maximum, all phases together")
    answer_floor: float = Field(gt=0.0, lt=0.5, description="rarer answers cannot hold it open")
    top3_answer_floor: float = Field(
        gt=0.0, lt=1.0, description="rarer answers cannot hold it open to change the top three"
    )
    top3_floor: float = Field(
        ge=0.0,
        lt=1.0,
        description="causes less likely than this share of the leader's chance "
        "entering or leaving the top 3 do not count",
    )
    clear_probability: float = Field(gt=0.5, lt=1.0)
    clear_margin: float = Field(gt=0.0, lt=1.0)
    min_gain_bits: float = Field(gt=0.0, lt=1.0)
    little_gain_leader: float = Field(
        ge=0.0, lt=1.0, description="the little-to-gain clause waits for a cause this likely"
    )
    source_weight: float = Field(ge=0.0, le=10.0)
    triage_weight: float = Field(ge=0.0, le=100.0)
    top3_weight: float = Field(ge=0.0, le=100.0, description="bits per cause gained in the top 3")
    shortlist_information: int = Field(ge=1, le=500, description="scored exactly, by gain")
    shortlist_serious: int = Field(ge=0, le=500, description="scored exactly, serious causes")
    shortlist_full_up_to: int = Field(
        ge=0, le=100, description="present findings up to which the shortlists are full size"
    )
    shortlist_minimum: tuple[int, int] = Field(
        description="the shortlists never shrink below these (information, serious)"
    )
    work_budget: int = Field(
        ge=0,
        description="table entries (inference.exact.row_cost) that scoring the shortlist may "
        "cost, and again the full triage levels read while choosing; past it the shortlist is "
        "cut and the quick level is read",
    )
    source: Source
    before_stopping: list[BeforeStopping] = Field(default_factory=list)


class QuestionsFile(_Strict):
    policy: Policy
    questions: list[QuestionSpec]


@dataclass(frozen=True)
class QuestionBank:
    """The validated questions (file order) and the policy numbers."""

    questions: tuple[QuestionSpec, ...]
    policy: Policy

    def get(self, question_id: str) -> QuestionSpec:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise UnknownIdError("question", question_id, [q.id for q in self.questions])

    def for_mode(self, mode: Mode) -> tuple[QuestionSpec, ...]:
        return tuple(q for q in self.questions if mode == "clinician" or not q.clinician_only)

    def findings_for(self, mode: Mode, age: int, sex: str | None) -> frozenset[str]:
        """Every finding some question of this mode can ask a person of this age and sex
        (pregnancy is not asked of a man, nor a child's weight of an adult)."""
        return frozenset(
            f for q in self.for_mode(mode) if q.applies(age, sex) for f in q.findings()
        )


def question_text(kb: KnowledgeBase, spec: QuestionSpec) -> str:
    """The wording a question is asked in: its own, or for a yes/no test written without any,
    the finding's clinical wording as a question."""
    if spec.text is not None:
        return spec.text
    assert spec.type == "yes_no" and spec.finding is not None
    return f"{kb.finding(spec.finding).clinician}?"


def default_questions_path() -> Path:
    return default_knowledge_dir() / "questions.yaml"


def load_questions(
    kb: KnowledgeBase, path: Path | None = None, red_flag_findings: Collection[str] = ()
) -> QuestionBank:
    """Read and validate the questions against ``kb``; raise listing every problem."""
    path = path or default_questions_path()
    raw = read_yaml(path)
    try:
        parsed = QuestionsFile.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeBaseError(
            [f"{path.name}: {describe_location(raw, e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from None
    problems = check_questions(parsed.questions, kb, red_flag_findings)
    ids = {q.id for q in parsed.questions}
    findings = {f.id for f in kb.findings}
    for q in parsed.questions:
        after = (q.ask_if.after_any or []) if q.ask_if else []
        problems += [
            f"question {q.id}: ask_if: no finding {f!r}" for f in after if f not in findings
        ]
    for rule in parsed.policy.before_stopping:
        problems += [
            f"before_stopping: unknown finding {f!r}" for f in rule.when if f not in findings
        ]
        problems += [f"before_stopping: unknown question {q!r}" for q in rule.ask if q not in ids]
    if problems:
        raise KnowledgeBaseError([f"{path.name}: {p}" for p in problems])
    return QuestionBank(tuple(parsed.questions), parsed.policy)


# The kind given, in these checks, to an exam finding a person can check on themselves.
SELF_CHECK = "exam_self_check"


def check_questions(
    questions: list[QuestionSpec], kb: KnowledgeBase, red_flag_findings: Collection[str]
) -> list[str]:
    """Every cross-check between the questions and the knowledge base, as a list of problems."""
    problems: list[str] = []
    # An exam finding a person can check on themselves may be asked in patient mode.
    kinds = {f.id: SELF_CHECK if f.self_check else f.kind for f in kb.findings}
    for dup in sorted(i for i, n in Counter(q.id for q in questions).items() if n > 1):
        problems.append(f"question id {dup!r} is defined more than once")
    for q in questions:
        problems.extend(f"question {q.id}: {p}" for p in _shape_problems(q, kinds))
    for kind in ("age", "sex"):
        if [q.phase for q in questions if q.type == kind] != ["opening"]:
            problems.append(f"exactly one {kind!r} question is needed, in the opening phase")
    order = [PHASES.index(q.phase) for q in questions]
    if order != sorted(order):
        problems.append("questions must be listed by phase: opening, then screen, then adaptive")

    patient_reach = {f for q in questions if not q.clinician_only for f in q.findings()}
    any_reach = {f for q in questions for f in q.findings()}
    for f in kb.findings:
        if f.kind == "exam" and f.id not in any_reach:
            problems.append(f"exam finding {f.id!r} is asked by no question")
        elif f.kind != "exam" and f.id not in patient_reach:
            problems.append(f"finding {f.id!r} is asked by no question a patient is shown")
    screened = {f for q in questions if q.phase == "screen" for f in q.findings()}
    for f_id in sorted(set(red_flag_findings)):
        if f_id not in kinds:
            problems.append(f"red-flag finding {f_id!r} is not a finding of the knowledge base")
        elif f_id not in screened:
            problems.append(f"red-flag finding {f_id!r} is not covered by the red-flag screen")
    return problems


def _shape_problems(q: QuestionSpec, kinds: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for dup in sorted(i for i, n in Counter(o.id for o in q.options).items() if n > 1):
        out.append(f"option id {dup!r} is used more than once")
    if q.type in ("age", "sex"):
        if q.finding or q.options:
            out.append(f"a {q.type} question sets no finding and has no options")
    elif q.type == "yes_no":
        if q.finding is None or q.options:
            out.append("a yes_no question names one finding and has no options")
    else:
        if len(q.options) < 2 or q.finding is not None:
            out.append(f"a {q.type} question has at least two options and no 'finding'")
        for o in q.options:
            if q.type == "multi" and (o.finding is None or o.sets is not None):
                out.append(f"option {o.id}: a multi option names one 'finding' and no 'sets'")
            if q.type == "single" and (not o.sets or o.finding is not None):
                out.append(f"option {o.id}: a single option has 'sets' and no 'finding'")
        if (
            q.type == "multi"
            and q.phase == "adaptive"
            and len(q.options) > MAX_ADAPTIVE_MULTI_OPTIONS
        ):
            out.append(
                f"an adaptive multi question has at most {MAX_ADAPTIVE_MULTI_OPTIONS} options"
            )
    exam = examined = False
    for f in q.findings():
        kind = kinds.get(f)
        if kind is None:
            out.append(f"unknown finding {f!r}")
        elif kind == "exam":
            exam = examined = True
        elif kind == SELF_CHECK:
            examined = True
    out.extend(_context_problems(q, kinds))
    if exam and not q.clinician_only:
        out.append("asks an exam finding, so it must be clinician_only")
    if q.text is None and not (examined and q.type == "yes_no"):
        out.append("needs 'text' (only a yes_no exam question may use the clinician wording)")
    if q.phase != "adaptive" and q.why is None:
        out.append(f"a {q.phase} question needs 'why' (its reason cannot be computed)")
    return out


def _context_problems(q: QuestionSpec, kinds: Mapping[str, str]) -> list[str]:
    """A question asking context findings (which set priors) is an opening question, or an
    adaptive checklist of context findings only, each option with a prevalence for every age
    band."""
    context = [f for f in q.findings() if kinds.get(f) == "context"]
    rated = any(o.prevalence is not None for o in q.options) or q.prevalence_source is not None
    if not context or q.phase == "opening":
        return ["only an adaptive checklist of context findings takes prevalences"] if rated else []
    if q.phase != "adaptive" or q.type != "multi" or len(context) != len(q.findings()):
        return [
            f"context finding {context[0]!r} sets priors: ask it in the opening phase, or in an "
            "adaptive checklist of context findings only"
        ]
    bands = [band for band, _, _ in AGE_BANDS]
    out = []
    for o in q.options:
        missing = [b for b in bands if b not in (o.prevalence or {})]
        if missing:
            out.append(f"option {o.id}: needs a prevalence for every age band; missing {missing}")
    if q.prevalence_source is None:
        out.append("an adaptive checklist of context findings needs a 'prevalence_source'")
    return out
