"""Cases as users give them: ``{"age": 52, "sex": "female", "findings": {"<id>": true}}``.

Findings left out are unknown. Context findings (sports) set the person's priors; all others are
evidence. Parsing never half-accepts a case: it either returns a valid :class:`Case` or raises an
:class:`InputError` that names the bad value and what would be accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kneesource.errors import CaseFormatError, UnknownIdError
from kneesource.model.compiled import CompiledModel, Person

_KEYS = {"age", "sex", "findings", "id", "note"}


@dataclass(frozen=True)
class Case:
    """One person and what is known about them."""

    age: int
    sex: Literal["female", "male"] | None = None
    findings: Mapping[str, bool] = field(default_factory=dict)
    case_id: str | None = None

    def person(self, model: CompiledModel) -> Person:
        activities = frozenset(f for f, v in self.findings.items() if v and f in model.context_ids)
        return Person(age=self.age, sex=self.sex, activities=activities)

    def evidence(self, model: CompiledModel) -> dict[str, bool]:
        skip = model.evidence_skipped
        return {f: v for f, v in self.findings.items() if f not in skip}

    def without(self, finding_id: str) -> Case:
        rest = {f: v for f, v in self.findings.items() if f != finding_id}
        return Case(self.age, self.sex, rest, self.case_id)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"age": self.age}
        if self.sex is not None:
            out["sex"] = self.sex
        out["findings"] = dict(self.findings)
        if self.case_id is not None:
            out["id"] = self.case_id
        return out


def parse_case(data: object, model: CompiledModel, where: str = "case") -> Case:
    """Validate a decoded JSON object as a case for ``model``."""
    if not isinstance(data, dict):
        raise CaseFormatError(f"{where}: a case must be a JSON object, got {type(data).__name__}")
    unknown_keys = sorted(set(data) - _KEYS)
    if unknown_keys:
        raise CaseFormatError(
            f"{where}: unknown field(s) {unknown_keys}; accepted fields are {sorted(_KEYS)}"
        )
    if "age" not in data:
        raise CaseFormatError(f"{where}: 'age' is required (whole years, 0-120)")
    age = data["age"]
    if isinstance(age, bool) or not isinstance(age, int):
        if isinstance(age, float) and age.is_integer():
            age = int(age)
        else:
            raise CaseFormatError(f"{where}: age must be a whole number of years, got {age!r}")
    if not 0 <= age <= 120:
        raise CaseFormatError(f"{where}: age must be between 0 and 120, got {age}")
    sex = data.get("sex")
    if sex is not None and sex not in ("female", "male"):
        raise CaseFormatError(f"{where}: sex must be 'female' or 'male' (or left out), got {sex!r}")
    findings = data.get("findings", {})
    if not isinstance(findings, dict):
        raise CaseFormatError(f"{where}: 'findings' must be an object of id: true/false")
    valid = set(model.finding_ids) | set(model.context_ids)
    clean: dict[str, bool] = {}
    for key, value in findings.items():
        if key not in valid:
            raise UnknownIdError("finding", key, valid, where=where)
        if value is None:
            continue  # explicitly unknown
        if not isinstance(value, bool):
            raise CaseFormatError(
                f"{where}: finding {key!r} must be true, false or null (unknown), got {value!r}"
            )
        clean[key] = value
    case_id = data.get("id")
    if case_id is not None and not isinstance(case_id, str):
        raise CaseFormatError(f"{where}: 'id' must be a string, got {case_id!r}")
    return Case(age=age, sex=sex, findings=clean, case_id=case_id)


def read_cases(path: Path, model: CompiledModel) -> Iterator[Case]:
    """Cases from a ``.json`` file (one case) or a ``.jsonl`` file (one per line, in order).

    Every line is validated before the first case is returned, so a bad line stops the whole
    file with an error naming the line, and no partial output is produced.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    cases: list[Case] = []
    if path.suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            cases.append(
                parse_case(
                    _decode(line, f"{path.name} line {number}"), model, f"{path.name} line {number}"
                )
            )
    else:
        cases.append(parse_case(_decode(text, path.name), model, path.name))
    if not cases:
        raise CaseFormatError(f"{path.name}: holds no case")
    yield from cases


def _decode(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFormatError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
