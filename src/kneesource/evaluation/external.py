"""The external validation set: published case reports, extracted blind and mapped apart.

Files, beside this module in ``external/``:

* ``cases/<group>.yaml``: each case as its source states it, with the source's citation, the
  final diagnosis in the source's words, where the pain came from, the triage level a clinician
  would want, and the facts at first presentation in the source's own terms. The people who read
  the sources did not see the knowledge base or the engine's output.
* ``mapping/<group>.yaml``: a separate, reviewed translation of every fact into finding ids
  (present or absent), or the reason it cannot be said (``untranslatable``, by category), and
  of the final diagnosis into a condition id (``null`` when the model has no such condition).
* ``split.yaml``: the held-out third, drawn at random before any result was looked at. It is
  never used to choose or tune anything; only its figures are reported.

Everything is validated at load, and every problem is reported at once
(:class:`kneesource.evaluation.vignettes.VignetteError`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kneesource.case import Case
from kneesource.evaluation.vignettes import TriageLevel, VignetteError
from kneesource.kb import yamlio
from kneesource.kb.loader import KnowledgeBase
from kneesource.kb.schema import SourceGroup

Split = Literal["tune", "held_out"]
_M = TypeVar("_M", bound=BaseModel)
Category = Literal[
    "time_course",
    "past_history",
    "treatment_response",
    "prior_results",
    "general_symptom",
    "exam_other",
    "demographic",
    "other",
]
CATEGORIES: tuple[Category, ...] = get_args(Category)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    authors: str = Field(min_length=2)
    title: str = Field(min_length=3)
    venue: str = Field(min_length=2)
    year: int | None = Field(default=None, ge=1900, le=2100)
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    kind: Literal["case_report", "case_series", "teaching_case"]

    @model_validator(mode="after")
    def _findable(self) -> Source:
        if not (self.doi or self.pmid or self.url):
            raise ValueError("a source needs a doi, a pmid or a url")
        return self


class SourceCase(_Strict):
    """One patient as the published source describes them (free facts, no finding ids)."""

    id: str = Field(pattern=r"^ext-[a-zA-Z]+-\d{3}$")
    source: Source
    final_diagnosis: str = Field(min_length=3)
    diagnosis_group: SourceGroup
    red_flag: bool
    age: int | None = Field(ge=0, le=120)
    sex: Literal["female", "male"] | None
    expected_triage: TriageLevel
    triage_reason: str = Field(min_length=3)
    facts: list[str] = Field(min_length=1)


class FactMapping(_Strict):
    """One fact of a source, said with findings, said by the case's age and sex (``person``),
    said by the complaint every assessment presumes (``complaint``: the person has knee pain,
    and the fact says nothing more), or not said at all (``untranslatable``, with the kind of
    fact)."""

    fact: str
    findings: dict[str, bool] | None = None
    person: bool = False
    complaint: bool = False
    untranslatable: Category | None = None

    @model_validator(mode="after")
    def _one(self) -> FactMapping:
        kinds = (
            (self.findings is not None)
            + self.person
            + self.complaint
            + (self.untranslatable is not None)
        )
        if kinds != 1:
            raise ValueError(
                "a fact maps to findings, is said by age and sex (person: true), by the "
                "complaint (complaint: true) or is untranslatable: exactly one of them"
            )
        if self.findings is not None and not self.findings:
            raise ValueError("an empty findings map; mark the fact untranslatable instead")
        return self


class CaseMapping(_Strict):
    case: str
    diagnosis: str | None
    diagnosis_note: str | None = None
    facts: list[FactMapping]


@dataclass(frozen=True)
class ExternalCase:
    """A source case with its mapping: what the engine is given and what it should say."""

    source: SourceCase
    mapping: CaseMapping
    split: Split

    @property
    def id(self) -> str:
        return self.source.id

    @property
    def findings(self) -> dict[str, bool]:
        """The translated findings. A finding stated both present and absent by different facts
        counts as present: the source reports it, and present is the safer reading."""
        out: dict[str, bool] = {}
        for fact in self.mapping.facts:
            for f, v in (fact.findings or {}).items():
                out[f] = out.get(f, False) or v
        return out

    @property
    def scorable(self) -> bool:
        """The engine needs an age; a source that gives none cannot be assessed."""
        return self.source.age is not None

    def case(self) -> Case:
        assert self.source.age is not None
        return Case(self.source.age, self.source.sex, self.findings, case_id=self.id)

    def untranslated(self) -> Counter[str]:
        return Counter(f.untranslatable for f in self.mapping.facts if f.untranslatable)


def default_external_dir() -> Path:
    return Path(str(resources.files("kneesource.evaluation") / "external"))


def load_external(kb: KnowledgeBase, directory: Path | None = None) -> tuple[ExternalCase, ...]:
    """Read and validate the external set; raise listing every problem."""
    directory = directory or default_external_dir()
    problems: list[str] = []
    sources: dict[str, SourceCase] = {}
    mappings: dict[str, CaseMapping] = {}
    for path, case in _parse_all(directory / "cases", "cases", SourceCase, problems):
        if case.id in sources:
            problems.append(f"{path.name}: case id {case.id} is used twice")
        sources[case.id] = case
    for path, mapping in _parse_all(directory / "mapping", "mappings", CaseMapping, problems):
        if mapping.case in mappings:
            problems.append(f"{path.name}: case {mapping.case} is mapped twice")
        mappings[mapping.case] = mapping
    held = {str(i) for i in _items(directory / "split.yaml", "held_out", problems)}
    findings = {f.id for f in kb.findings}
    conditions = {c.id for c in kb.conditions}
    for cid in sorted(set(sources) ^ set(mappings)):
        problems.append(f"case {cid}: {'no mapping' if cid in sources else 'no source case'}")
    for cid in sorted(held - set(sources)):
        problems.append(f"split.yaml: unknown case {cid}")
    out = []
    for cid, case in sources.items():
        if cid not in mappings:
            continue
        mapping = mappings[cid]
        if [f.fact for f in mapping.facts] != case.facts:
            problems.append(f"case {cid}: the mapping does not list the case's facts in order")
        for fact in mapping.facts:
            for f in fact.findings or {}:
                if f not in findings:
                    problems.append(f"case {cid}: unknown finding {f!r}")
        if mapping.diagnosis is not None and mapping.diagnosis not in conditions:
            problems.append(f"case {cid}: unknown condition {mapping.diagnosis!r}")
        out.append(ExternalCase(case, mapping, "held_out" if cid in held else "tune"))
    if problems:
        raise VignetteError(problems)
    return tuple(out)


def _parse_all(
    folder: Path, key: str, model: type[_M], problems: list[str]
) -> list[tuple[Path, _M]]:
    """Every item of the list ``key`` in every YAML file of ``folder`` that validates as
    ``model``, with its file; the others are reported in ``problems``."""
    out = []
    for path in sorted(folder.glob("*.yaml")):
        for i, item in enumerate(_items(path, key, problems)):
            try:
                out.append((path, model.model_validate(item)))
            except ValidationError as exc:
                problems += _errors(path, i, item, exc)
    return out


def _items(path: Path, key: str, problems: list[str]) -> list[object]:
    try:
        data = yamlio.load(path.read_text(encoding="utf-8"))
    except (OSError, yamlio.YAMLError) as exc:
        problems.append(f"{path.name}: cannot be read as YAML ({exc})")
        return []
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        problems.append(f"{path.name}: must hold a top-level list {key!r}")
        return []
    return items


def _errors(path: Path, i: int, item: object, exc: ValidationError) -> list[str]:
    ident = item.get("id", item.get("case")) if isinstance(item, dict) else None
    return [
        f"{path.name}: [{i}] ({ident}): {'.'.join(str(p) for p in e['loc']) or 'item'}: {e['msg']}"
        for e in exc.errors()
    ]


@dataclass(frozen=True)
class Coverage:
    """How much of what the sources say the vocabulary can say."""

    facts: int
    translated: int  # said with findings, by the age and sex the engine is given, or the complaint
    by_category: dict[str, int]
    person: int = 0  # of the translated: said by age and sex alone
    complaint: int = 0  # of the translated: said by the complaint (knee pain) alone

    @property
    def share(self) -> float:
        return self.translated / self.facts if self.facts else float("nan")


def coverage(cases: tuple[ExternalCase, ...] | list[ExternalCase]) -> Coverage:
    total = sum(len(c.mapping.facts) for c in cases)
    counts: Counter[str] = Counter()
    for c in cases:
        counts.update(c.untranslated())
    untranslated = sum(counts.values())
    person = sum(f.person for c in cases for f in c.mapping.facts)
    complaint = sum(f.complaint for c in cases for f in c.mapping.facts)
    by_category: dict[str, int] = {k: counts.get(k, 0) for k in CATEGORIES}
    return Coverage(total, total - untranslated, by_category, person, complaint)
