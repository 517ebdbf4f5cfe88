"""Pydantic models of ``redflags.yaml``: warning-sign rules, probability thresholds, advice.

The file is validated in two steps, like the rest of the knowledge base: these models check each
entry on its own (vocabularies, ranges, shapes); ``kneesource.triage.rules`` then checks it
against the knowledge base (finding, condition and reference ids resolve, every serious condition
is covered) and reports every problem at once.

A rule's ``when`` is a condition on the findings the person reported as present, built from:

* a finding id (``saddle_numbness``): true when that finding is present;
* ``{all_of: [...]}``, ``{any_of: [...]}``, ``{at_least: N, of: [...]}``;
* ``{age: {min: 55}}`` or ``{age: {max: 17}}`` (whole years, bounds included);
* ``{sign: <id>}``: a named group of findings defined once under ``signs``.

There is no "not": a rule can only be switched on by more warning signs, never off, which keeps
the triage level monotone in the warning signs (see ``docs/triage.md``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kneesource.kb.schema import Id, Probability, Source, SourceGroup

Level = Literal["emergency", "urgent", "soon", "self_care"]
# Ascending urgency: the index of a level is its rank.
LEVELS: tuple[Level, ...] = ("self_care", "soon", "urgent", "emergency")


_RANKS: dict[str, int] = {level: i for i, level in enumerate(LEVELS)}


def level_rank(level: Level) -> int:
    """0 for self_care up to 3 for emergency."""
    return _RANKS[level]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class AgeRange(_Strict):
    min: Annotated[int, Field(ge=0, le=120)] | None = None
    max: Annotated[int, Field(ge=0, le=120)] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> AgeRange:
        if self.min is None and self.max is None:
            raise ValueError("an age test needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"age min {self.min} is above max {self.max}")
        return self


class AgeTest(_Strict):
    age: AgeRange


class SignRef(_Strict):
    sign: Id


class AllOf(_Strict):
    all_of: list[Expr] = Field(min_length=1)


class AnyOf(_Strict):
    any_of: list[Expr] = Field(min_length=1)


class AtLeast(_Strict):
    at_least: int = Field(ge=1)
    of: list[Expr] = Field(min_length=2)

    @model_validator(mode="after")
    def _reachable(self) -> AtLeast:
        if self.at_least > len(self.of):
            raise ValueError(f"at_least {self.at_least} of only {len(self.of)} items never holds")
        return self


Expr = Id | AllOf | AnyOf | AtLeast | AgeTest | SignRef

AllOf.model_rebuild()
AnyOf.model_rebuild()
AtLeast.model_rebuild()


class Sign(_Strict):
    """A named group of findings used by several rules (e.g. "an inflamed knee")."""

    id: Id
    description: str = Field(min_length=10)
    when: Expr


class Rule(_Strict):
    """A warning-sign rule: when ``when`` holds, the level is at least ``level``."""

    id: Id
    condition: Id | None = Field(description="the condition it raises suspicion of, if one")
    level: Level
    when: Expr
    message: str = Field(min_length=20, description="plain words for the person")
    action: Id | None = Field(
        default=None,
        description="an entry of advice.actions said instead of the level's own action when "
        "every reason at the case's level names it",
    )
    source: Source


class Threshold(_Strict):
    """A condition whose probability at or above ``probability`` raises the level, provided the
    findings in ``requires`` (if given) are present: the complaint that makes the condition a
    real question (an injury for a fracture, a leg symptom for a clot)."""

    condition: Id
    probability: Annotated[float, Field(gt=0.0, lt=1.0)]
    level: Level
    requires: Expr | None = None
    message: str = Field(min_length=20)
    action: Id | None = Field(default=None, description="as for a rule")
    source: Source


class UncertainPair(_Strict):
    """A dangerous cause the answers cannot separate from a less dangerous one, and the test
    that would. Shown when a listed rule fired, or when a rule or threshold for the dangerous
    cause fired and the benign one is at least ``benign_min`` likely."""

    dangerous: Id
    benign: Id
    test: str = Field(min_length=10)
    benign_min: Probability
    rules: list[Id] = Field(default_factory=list)
    age: AgeRange | None = Field(default=None, description="only for people of these ages")
    source: Source


class LevelAdvice(_Strict):
    title: str = Field(min_length=3)
    action: str = Field(min_length=20)


class NamedAction(LevelAdvice):
    """What to do now in place of a level's action, for the ages in ``age`` (all without)."""

    age: AgeRange | None = None


class Tip(_Strict):
    """Self-care advice offered when one of ``conditions`` (or a pain source in ``sources``)
    is at least ``min_probability`` likely, unless the person's answers make it unsafe:
    ``avoid_when`` holds on the present findings, or a reason of the triage names a condition
    in ``avoid_if_suspected`` (no calf massage while a clot is in question)."""

    id: Id
    text: str = Field(min_length=20)
    conditions: list[Id] = Field(default_factory=list)
    sources: list[SourceGroup] = Field(default_factory=list)
    min_probability: Probability
    age: AgeRange | None = None
    avoid_when: Expr | None = None
    avoid_if_suspected: list[Id] = Field(default_factory=list)
    source: Source

    @model_validator(mode="after")
    def _has_target(self) -> Tip:
        if not self.conditions and not self.sources:
            raise ValueError("a tip needs conditions or sources to be selected by")
        return self


class SafetyNet(_Strict):
    """What to do while waiting and what should make the person seek care sooner, given at
    every level. ``always`` nets are given to everyone of their ages; the others when their
    conditions or pain sources are plausible, when a reason of the triage names one of
    ``reasons_for`` (a suspected clot gets the clot's net whatever its probability), or when
    ``when`` holds on the present findings."""

    id: Id
    text: str = Field(min_length=20)
    always: bool = False
    conditions: list[Id] = Field(default_factory=list)
    sources: list[SourceGroup] = Field(default_factory=list)
    min_probability: Probability = 0.0
    reasons_for: list[Id] = Field(default_factory=list)
    when: Expr | None = None
    age: AgeRange | None = Field(default=None, description="only for people of these ages")
    up_to: Level = Field(default="emergency", description="not given above this level")
    source: Source

    @model_validator(mode="after")
    def _has_target(self) -> SafetyNet:
        if not (self.always or self.conditions or self.sources or self.reasons_for or self.when):
            raise ValueError(
                "a safety net is either always given or has conditions, sources, reasons_for "
                "or when"
            )
        return self


class MedicineNote(_Strict):
    """What to say about painkillers, chosen by what the person said: the first note whose
    ``when`` holds on the present findings and whose ``age`` fits is given (the last note
    has neither, so everyone gets one)."""

    id: Id
    text: str = Field(min_length=20)
    when: Expr | None = None
    age: AgeRange | None = None
    source: Source


class Advice(_Strict):
    levels: dict[Level, LevelAdvice]
    actions: dict[Id, NamedAction] = Field(
        default_factory=dict,
        description="what to do now, named, for reasons whose own destination differs from "
        "their level's (a rule or threshold names one with ``action``)",
    )
    default_tip: str = Field(min_length=20)
    max_tips: int = Field(ge=1, le=10)
    tips: list[Tip]
    medicines: list[MedicineNote] = Field(min_length=1)
    safety_nets: list[SafetyNet] = Field(min_length=1)
    uncertainty: str = Field(
        min_length=10,
        description="at urgent and emergency: template with {dangerous} {benign} {test}",
    )
    uncertainty_later: str = Field(
        min_length=10,
        description="at soon and self-care: template with {dangerous} {benign} {test}",
    )
    outranked: str = Field(
        min_length=10, description="said before reasons whose own level is below the advice's"
    )
    many_warning_signs: str = Field(
        min_length=20, description="said after a threshold raised without scoring (MAX_SCORED)"
    )
    too_many_answers_to_weigh: str = Field(
        min_length=20,
        description="said after a threshold raised without scoring (the triage's WORK_BUDGET)",
    )
    warning_sign_kept: str = Field(
        min_length=20, description="said when a probability is kept up despite a warning sign"
    )

    @model_validator(mode="after")
    def _complete(self) -> Advice:
        missing = [lv for lv in LEVELS if lv not in self.levels]
        if missing:
            raise ValueError(f"advice is missing for level(s) {missing}")
        if not any(n.always and n.age is None for n in self.safety_nets):
            raise ValueError("at least one safety net must be always given, at every age")
        last = self.medicines[-1]
        if last.when is not None or last.age is not None:
            raise ValueError(f"the last medicine note ({last.id}) must have no 'when' and no 'age'")
        return self


class SelfCare(_Strict):
    """When self-care may be advised: only when one of ``causes`` (self-limiting, managed at
    home) leads the differential with at least ``min_probability``, and no warning sign is
    present. Otherwise a person with no other reason is advised ``soon`` with ``message``:
    self-care is a conclusion, not a default."""

    causes: list[Id] = Field(min_length=1)
    min_probability: Probability
    message: str = Field(min_length=20)
    source: Source


class RedFlagsFile(_Strict):
    signs: list[Sign] = Field(default_factory=list)
    rules: list[Rule] = Field(min_length=1)
    thresholds: list[Threshold]
    uncertainties: list[UncertainPair] = Field(default_factory=list)
    self_care: SelfCare
    advice: Advice
