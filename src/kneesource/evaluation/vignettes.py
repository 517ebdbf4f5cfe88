"""Clinical vignettes: written cases with a known answer, stored as YAML beside this module.

Each vignette is a short, plain-language presentation with the findings a clinician would have
recorded, the final diagnosis, where the pain comes from, the nerve root when one is involved and
the triage level a clinician would expect. Every vignette names the published case report,
teaching source or evidence-brief section it was written from.

Vignettes are validated twice, like the knowledge base: each file against the pydantic models
below, then every id against the knowledge base (findings, conditions, references). All problems
are collected and raised together as one :class:`VignetteError`.

The ``split`` field keeps a third of the cases ``held_out``: those are only ever scored, never
used to tune the knowledge base (see ``docs/evaluation.md``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kneesource.case import Case
from kneesource.errors import InputError, closest
from kneesource.kb import yamlio
from kneesource.kb.loader import KnowledgeBase
from kneesource.kb.schema import RootId, SourceGroup

Split = Literal["tune", "held_out"]
SPLITS: tuple[Split, ...] = ("tune", "held_out")
TriageLevel = Literal["emergency", "urgent", "soon", "self_care"]
# Ascending urgency, the same order as ``kneesource.triage.LEVELS``.
TRIAGE_LEVELS: tuple[TriageLevel, ...] = ("self_care", "soon", "urgent", "emergency")
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=2, max_length=60)]


class VignetteError(InputError):
    """One or more vignettes are invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the vignettes have {len(problems)} problem(s):\n{listing}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReferenceCitation(_Strict):
    """A source already listed in the knowledge base's references files."""

    ref: Id
    detail: str = Field(min_length=3, description="which case, table or passage")


class PublishedCitation(_Strict):
    """A published case report or teaching case not (yet) in the knowledge base's references."""

    authors: str = Field(min_length=3)
    title: str = Field(min_length=5)
    journal: str = Field(min_length=3)
    year: int = Field(ge=1900, le=2100)
    pmid: str | None = Field(default=None, pattern=r"^\d{5,9}$")
    doi: str | None = None
    url: str | None = None


class BriefCitation(_Strict):
    """A section of the team's clinical evidence brief, plus the guideline it summarises."""

    evidence_brief: str = Field(pattern=r"^\d+(\.[A-Z0-9]+)*$", description="section, e.g. 1.21")
    detail: str = Field(min_length=3)


Citation = ReferenceCitation | PublishedCitation | BriefCitation


class Vignette(_Strict):
    id: Id
    split: Split
    citation: Citation
    age: int = Field(ge=0, le=120)
    sex: Literal["female", "male"]
    presentation: str = Field(min_length=40, description="plain language, the team's own words")
    findings: dict[Id, bool] = Field(min_length=1)
    diagnosis: Id
    also_present: list[Id] = Field(default_factory=list)
    pain_source: SourceGroup
    root: RootId | None = None
    expected_triage: TriageLevel
    red_flag: bool = Field(description="a case with a red-flag feature that must not be missed")

    @model_validator(mode="after")
    def _consistent(self) -> Vignette:
        if self.diagnosis in self.also_present:
            raise ValueError("the diagnosis must not be repeated in also_present")
        if self.expected_triage == "emergency" and not self.red_flag:
            raise ValueError("an emergency case is a red-flag case (set red_flag: true)")
        return self

    @property
    def present(self) -> tuple[str, ...]:
        """Every condition present in this person: the diagnosis first."""
        return (self.diagnosis, *self.also_present)

    def case(self) -> Case:
        return Case(age=self.age, sex=self.sex, findings=dict(self.findings), case_id=self.id)


@dataclass(frozen=True)
class VignetteSet:
    """Validated vignettes in file order, with the files they came from."""

    vignettes: tuple[Vignette, ...]

    def split(self, name: Split | None) -> tuple[Vignette, ...]:
        """The vignettes of one split, or all of them for ``None``."""
        if name is None:
            return self.vignettes
        return tuple(v for v in self.vignettes if v.split == name)

    def __len__(self) -> int:
        return len(self.vignettes)


def default_vignette_dir() -> Path:
    """Directory of the vignettes shipped inside the package."""
    return Path(str(resources.files("kneesource.evaluation") / "vignettes"))


def load_vignettes(kb: KnowledgeBase, directory: Path | None = None) -> VignetteSet:
    """Read every ``*.yaml`` in ``directory``, validate against ``kb``; raise listing problems."""
    directory = directory or default_vignette_dir()
    paths = sorted(directory.glob("*.yaml"))
    problems: list[str] = []
    if not paths:
        raise VignetteError([f"no vignette files (*.yaml) in {directory}"])
    vignettes: list[Vignette] = []
    for path in paths:
        try:
            data = yamlio.load(path.read_text(encoding="utf-8"))
        except (OSError, yamlio.YAMLError) as exc:
            problems.append(f"{path.name}: cannot be read as YAML ({exc})")
            continue
        items = data.get("vignettes") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items or set(data) != {"vignettes"}:
            problems.append(f"{path.name}: must hold only a non-empty top-level list 'vignettes'")
            continue
        for i, item in enumerate(items):
            # One case at a time, so a malformed case does not hide the problems of the others.
            try:
                vignettes.append(Vignette.model_validate(item))
            except ValidationError as exc:
                ident = item.get("id") if isinstance(item, dict) else None
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"]) or "case"
                    problems.append(f"{path.name}: vignettes[{i}] ({ident}): {where}: {err['msg']}")
    problems.extend(_knowledge_problems(vignettes, kb))
    if problems:
        raise VignetteError(problems)
    return VignetteSet(tuple(vignettes))


def _knowledge_problems(vignettes: list[Vignette], kb: KnowledgeBase) -> list[str]:
    """Rules that need the knowledge base: ids resolve, the source matches the diagnosis."""
    problems: list[str] = []
    conditions = {c.id: c for c in kb.conditions}
    findings = sorted(f.id for f in kb.findings)
    known_findings = set(findings)
    for dup, n in Counter(v.id for v in vignettes).items():
        if n > 1:
            problems.append(f"vignette id {dup!r} is used {n} times")
    for v in vignettes:
        name = f"vignette {v.id}"
        for cid in v.present:
            if cid not in conditions:
                problems.append(f"{name}: unknown condition {cid!r}{_hint(cid, conditions)}")
        for fid in v.findings:
            if fid not in known_findings:
                problems.append(f"{name}: unknown finding {fid!r}{_hint(fid, findings)}")
        if isinstance(v.citation, ReferenceCitation) and v.citation.ref not in kb.references:
            problems.append(
                f"{name}: cites unknown reference {v.citation.ref!r}"
                f"{_hint(v.citation.ref, kb.references)}"
            )
        diagnosis = conditions.get(v.diagnosis)
        if diagnosis is not None and diagnosis.source_group != v.pain_source:
            problems.append(
                f"{name}: pain_source {v.pain_source!r} differs from the source of "
                f"{v.diagnosis} ({diagnosis.source_group!r})"
            )
        if v.root is not None and v.pain_source != "spine":
            problems.append(f"{name}: a nerve root is given but the pain source is not the spine")
    return problems


def _hint(value: str, valid: object) -> str:
    options = sorted(valid) if isinstance(valid, dict | set | list) else []
    near = closest(value, options)
    return f" (did you mean {', '.join(repr(n) for n in near)}?)" if near else ""


def coverage_problems(vset: VignetteSet, kb: KnowledgeBase) -> list[str]:
    """What the vignette set must cover: every condition, spine/hip and red-flag counts, split."""
    problems: list[str] = []
    diagnosed = {v.diagnosis for v in vset.vignettes}
    for c in kb.conditions:
        if c.id not in diagnosed:
            problems.append(f"no vignette has {c.id} as its diagnosis")
    referred = sum(v.pain_source in ("spine", "hip") for v in vset.vignettes)
    if referred < 15:
        problems.append(f"{referred} vignettes with spine or hip pain; at least 15 are needed")
    flags = sum(v.red_flag for v in vset.vignettes)
    if flags < 12:
        problems.append(f"{flags} red-flag vignettes; at least 12 are needed")
    held = len(vset.split("held_out"))
    if 3 * held < len(vset):
        problems.append(f"{held} of {len(vset)} vignettes held out; at least a third are needed")
    if len(vset) < 60:
        problems.append(f"{len(vset)} vignettes; at least 60 are needed")
    return problems
