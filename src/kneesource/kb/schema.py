"""Pydantic models for one knowledge file at a time (the first of two validation levels).

Every number in the knowledge base carries a :data:`Source`: either a citation of an entry in
``references.yaml`` (with the table or passage it comes from and the brief's evidence tag) or an
``assumption`` with its reasoning. Cross-file rules (ids resolve, codes exist...) live in
``loader``.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=2, max_length=60)]
RootId = Literal["L2", "L3", "L4", "L5", "S1"]
ROOT_IDS: tuple[RootId, ...] = ("L2", "L3", "L4", "L5", "S1")
SourceGroup = Literal["knee", "spine", "hip", "vascular", "other"]
SOURCE_GROUPS: tuple[SourceGroup, ...] = ("knee", "spine", "hip", "vascular", "other")
AgeBand = Literal["child", "adolescent", "young_adult", "adult", "older_adult", "elderly"]
AGE_BANDS: tuple[tuple[AgeBand, int, int], ...] = (
    ("child", 0, 9),
    ("adolescent", 10, 17),
    ("young_adult", 18, 34),
    ("adult", 35, 54),
    ("older_adult", 55, 69),
    ("elderly", 70, 120),
)


def age_band_index(age: int) -> int:
    """The position in ``AGE_BANDS`` of the band that holds ``age`` (0 to 120)."""
    return next(i for i, (_, lo, hi) in enumerate(AGE_BANDS) if lo <= age <= hi)


def age_band(age: int) -> AgeBand:
    """The name of the age band that holds ``age`` (0 to 120)."""
    return AGE_BANDS[age_band_index(age)][0]


Sex = Literal["female", "male"]
FindingKind = Literal["history", "symptom", "risk_factor", "result", "exam", "context"]
EvidenceTag = Literal["V", "S", "M"]
Region = Literal[
    "front_of_knee",
    "inner_knee",
    "outer_knee",
    "back_of_knee",
    "whole_knee",
    "front_of_thigh",
    "inner_thigh",
    "outer_thigh",
    "back_of_thigh",
    "groin",
    "buttock",
    "lower_back",
    "shin",
    "calf",
    "foot",
    "saddle",
]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
OpenProbability = Annotated[float, Field(gt=0.0, lt=1.0)]
PositiveRatio = Annotated[float, Field(gt=0.0, le=1000.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# Words by which a citation's detail admits that its number is not the source's.
_NOT_FROM_THE_SOURCE = re.compile(r"\bour estimates?\b|\bfrom memory\b", re.IGNORECASE)


class Citation(_Strict):
    """A number taken (or derived, with the arithmetic in ``detail``) from a reference. A number
    the team chose, however well informed by the reference, is an :class:`Assumption` that
    names it: a citation whose detail calls its number an estimate of ours is refused."""

    ref: Id
    detail: str = Field(min_length=3)
    tag: EvidenceTag

    @model_validator(mode="after")
    def _number_from_the_source(self) -> Citation:
        admitted = _NOT_FROM_THE_SOURCE.search(self.detail)
        if admitted:
            raise ValueError(
                f"the citation of {self.ref!r} says its number is not the source's "
                f"({admitted.group(0)!r}): write it as an assumption that names the source"
            )
        return self


class Assumption(_Strict):
    """A number chosen by the team; ``assumption`` says why this value."""

    assumption: str = Field(min_length=20)


Source = Citation | Assumption


class Reference(_Strict):
    id: Id
    citation: str = Field(min_length=10)
    url: str | None = None
    pmid: str | None = Field(default=None, pattern=r"^\d{5,9}$")
    doi: str | None = None


class ReferencesFile(_Strict):
    references: list[Reference]


class Complaint(_Strict):
    """The complaint as evidence (``kneesource.inference.complaint``): ``rate`` is the share of
    people with knee-region pain, which scales the consulting priors down to the population's;
    ``other_causes`` the least probability of that pain in someone with none of the conditions."""

    rate: Annotated[float, Field(gt=0.0, le=1.0)]
    rate_source: Source
    other_causes: OpenProbability
    other_causes_source: Source


class Meta(_Strict):
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    population: str = Field(min_length=10)
    reference_person: str = Field(min_length=10)
    complaint: Complaint


class Codes(_Strict):
    icd10cm: list[Annotated[str, Field(pattern=r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")]] = Field(
        min_length=1
    )
    snomed: list[Annotated[str, Field(pattern=r"^[0-9]{6,18}$")]] = Field(default_factory=list)


class AgeModifier(_Strict):
    factor: Literal["age_band"]
    odds: dict[AgeBand, PositiveRatio]
    source: Source


class _AgeSpan(_Strict):
    """Whole years of age, inclusive, ``min`` not above ``max``; ``_what`` names the span in
    the error."""

    _what: ClassVar[str] = "ages"
    min: int = Field(ge=0, le=120)
    max: int = Field(ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> _AgeSpan:
        if self.min > self.max:
            raise ValueError(f"{self._what} {self.min}-{self.max}: min is above max")
        return self


class AgeRangeOdds(_AgeSpan):
    _what: ClassVar[str] = "age range"
    odds: PositiveRatio


class AgeYearsModifier(_Strict):
    """Odds for whole years of age on top of the age band's, for a condition whose risk changes
    within a band (a slipped growth plate is rare before 8 and appears at 8-9, both in the child
    band). Ranges may not overlap."""

    factor: Literal["age"]
    ranges: list[AgeRangeOdds] = Field(min_length=1)
    source: Source

    @model_validator(mode="after")
    def _apart(self) -> AgeYearsModifier:
        spans = sorted((r.min, r.max) for r in self.ranges)
        for (_, hi), (lo, _) in pairwise(spans):
            if lo <= hi:
                raise ValueError(f"age ranges overlap at {lo}: give each year one odds ratio")
        return self


class SexModifier(_Strict):
    factor: Literal["sex"]
    odds: dict[Sex, PositiveRatio]
    source: Source


class ActivityModifier(_Strict):
    factor: Literal["activity"]
    odds: dict[Id, PositiveRatio]
    source: Source


class HistoryModifier(_Strict):
    """Odds for a past treatment that changes which causes are possible at all (a knee
    replacement leaves no meniscus to tear), keyed by context findings like the sports."""

    factor: Literal["history"]
    odds: dict[Id, PositiveRatio]
    source: Source


Modifier = Annotated[
    AgeModifier | AgeYearsModifier | SexModifier | ActivityModifier | HistoryModifier,
    Field(discriminator="factor"),
]
AGES = 121  # whole years 0 to 120


class AgeLimits(_AgeSpan):
    """The ages (whole years, inclusive) at which a condition can occur at all."""

    min: int = Field(default=0, ge=0, le=120)
    max: int = Field(default=120, ge=0, le=120)
    source: Source


class Prior(_Strict):
    """Probability of the condition in the reference person; modifiers multiply its odds.
    ``requires``: context findings of which one must be reported for the condition to be
    possible at all (an implant's problems need an implant); without any, the prior is zero.
    ``ages``: the ages at which it occurs at all (an irritable hip is a condition of
    childhood); outside them the prior is zero. Either way inference leaves the condition out of
    the tables, so a condition of children does not widen an adult's evidence."""

    base: OpenProbability
    source: Source
    modifiers: list[Modifier] = Field(default_factory=list)
    requires: list[Id] = Field(default_factory=list)
    ages: AgeLimits | None = None

    @model_validator(mode="after")
    def _one_modifier_per_factor(self) -> Prior:
        factors = [m.factor for m in self.modifiers]
        if len(set(factors)) != len(factors):
            raise ValueError(f"each modifier factor may appear once, got {factors}")
        return self


class Condition(_Strict):
    id: Id
    name: str = Field(min_length=3, description="plain-language name for patients")
    clinical_name: str = Field(min_length=3)
    source_group: SourceGroup
    serious: bool = Field(description="a cause that can do lasting harm if missed")
    codes: Codes
    summary: str = Field(min_length=20, description="what it is and how it causes knee pain")
    advice: str = Field(min_length=20, description="what to do, in plain words")
    prior: Prior


class ConditionsFile(_Strict):
    conditions: list[Condition]


class Finding(_Strict):
    id: Id
    kind: FindingKind
    patient: str = Field(min_length=3, description="plain statement a person would recognise")
    clinician: str = Field(min_length=3)
    region: Region | None = None
    how_to: str | None = Field(default=None, description="how to perform an exam test")
    leak: OpenProbability | None = Field(
        default=None,
        description="chance of the finding in knee pain with none of its modelled causes",
    )
    leak_source: Source | None = None
    self_check: bool = Field(
        default=False,
        description="an exam finding a person can check on themselves, so it may be asked in "
        "patient mode (a knee out of shape, a leg that cannot be lifted straight)",
    )
    triage_only: bool = Field(
        default=False,
        description="read by the triage and advice only (pregnancy after birth, a blood "
        "thinner): no condition of the model causes it, so it takes no links and does not "
        "change any probability",
    )
    implies: tuple[Id, ...] = Field(
        default=(),
        description="findings this one cannot be present without (fluid found in the knee is "
        "a swollen knee): every warning-sign rule, threshold and advice gate that holds with "
        "one of them must also hold with this finding in its place (checked at load)",
    )

    @model_validator(mode="after")
    def _leak_rules(self) -> Finding:
        if self.kind == "context":
            if self.leak is not None or self.leak_source is not None:
                raise ValueError("context findings set priors and take no leak")
        elif self.leak is None or self.leak_source is None:
            raise ValueError("a finding needs a leak and a leak_source")
        if self.kind == "exam" and not self.how_to:
            raise ValueError("an exam finding needs how_to instructions")
        if self.self_check and self.kind != "exam":
            raise ValueError("only an exam finding is marked self_check")
        if self.triage_only and self.kind == "context":
            raise ValueError("a context finding sets priors, so it cannot be triage_only")
        return self


class FindingsFile(_Strict):
    findings: list[Finding]


class Link(_Strict):
    """A causal link with its strength given in exactly one of the accepted forms.

    Accepted forms (``kb.strength`` has the arithmetic that turns each into a noisy-OR weight):
    ``sensitivity`` + ``specificity``; ``lr_positive`` and/or ``lr_negative``; ``probability``
    (chance of the child when this parent alone is present).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    parent: str = Field(min_length=2)
    child: str = Field(min_length=2)
    sensitivity: OpenProbability | None = None
    specificity: OpenProbability | None = None
    lr_positive: Annotated[float, Field(gt=1.0, le=1000.0)] | None = None
    lr_negative: Annotated[float, Field(ge=0.0, lt=1.0)] | None = None
    probability: OpenProbability | None = None
    source: Source

    @model_validator(mode="after")
    def _one_form(self) -> Link:
        form = self.form
        if form == "invalid":
            raise ValueError(
                "give exactly one strength form: sensitivity+specificity, lr_positive and/or "
                "lr_negative, or probability"
            )
        return self

    @property
    def form(self) -> str:
        sn, sp = self.sensitivity is not None, self.specificity is not None
        lrp, lrn = self.lr_positive is not None, self.lr_negative is not None
        prob = self.probability is not None
        if sn and sp and not (lrp or lrn or prob):
            return "sens_spec"
        if (lrp or lrn) and not (sn or sp or prob):
            return "likelihood_ratio"
        if prob and not (sn or sp or lrp or lrn):
            return "probability"
        return "invalid"


class LinksFile(_Strict):
    links: list[Link]


class Root(_Strict):
    id: RootId
    leak: OpenProbability
    leak_source: Source
    dermatome: list[Region] = Field(min_length=1)
    key_sensory_point: str
    myotome: list[str] = Field(min_length=1)
    reflex: str | None
    nerves: list[Id] = Field(min_length=1)
    knee_region: str
    source: Source


class Nerve(_Strict):
    id: Id
    name: str
    roots: list[RootId] = Field(min_length=1)
    motor: list[str]
    sensory: list[Region]
    knee_supply: str
    source: Source


class AnatomyFile(_Strict):
    roots: list[Root]
    nerves: list[Nerve]
