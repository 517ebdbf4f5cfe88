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

from kneesource.errors import CaseFormatError, InputError, UnknownIdError
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
    text = read_text(path)
    cases: list[Case] = []
    if path.suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            cases.append(parse_case(decode_json(line, where), model, where))
    else:
        data = decode_json(text, path.name)
        if isinstance(data, dict) and data.get("resourceType") == "QuestionnaireResponse":
            cases.append(_from_questionnaire_response(data, model, path.name))
        else:
            cases.append(parse_case(data, model, path.name))
    if not cases:
        raise CaseFormatError(f"{path.name}: holds no case")
    yield from cases


def _from_questionnaire_response(data: dict[str, object], model: CompiledModel, where: str) -> Case:
    """A FHIR QuestionnaireResponse of kneesource's questionnaire, as the case its answers give."""
    from kneesource.engine import default_engine
    from kneesource.interview.state import case_of
    from kneesource.interview.triage_link import question_bank
    from kneesource.report.fhir import case_from_response

    engine = default_engine()
    if engine.model is not model:
        raise CaseFormatError(
            f"{where}: a QuestionnaireResponse is read with the shipped questions"
        )
    try:
        state = case_from_response(engine, data)
        case_id = data.get("id")
        return case_of(question_bank(engine), state, case_id if isinstance(case_id, str) else None)
    except InputError as exc:
        raise CaseFormatError(f"{where}: {exc}") from None


class CaseStream:
    """Cases from a ``.jsonl`` file read one line at a time, so memory does not grow with the
    file: each case is validated as it is reached, and a bad line raises an error naming it (the
    cases before it have been returned). ``position`` is the number of bytes read so far. Use it
    as a context manager, or call ``close``."""

    def __init__(self, path: Path, model: CompiledModel) -> None:
        try:
            self._stream = path.open("rb")
        except OSError as exc:
            raise CaseFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
        self._path, self._model = path, model
        self._number = 0
        self._seen = False
        self.position = 0

    def __iter__(self) -> CaseStream:
        return self

    def __next__(self) -> Case:
        for raw in self._stream:
            self._number += 1
            self.position += len(raw)
            where = f"{self._path.name} line {self._number}"
            try:
                line = raw.decode("utf-8-sig" if self._number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise CaseFormatError(
                    f"{where}: not UTF-8 text; save the file as UTF-8 JSON Lines"
                ) from None
            if not line.strip():
                continue
            self._seen = True
            return parse_case(decode_json(line, where), self._model, where)
        if not self._seen:
            self._seen = True  # said once
            raise CaseFormatError(f"{self._path.name}: holds no case")
        raise StopIteration

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> CaseStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_text(path: Path) -> str:
    """A text file as people save them: UTF-8, with or without a byte-order mark (as Notepad
    writes it). Anything else is refused with a message saying what was expected."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CaseFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CaseFormatError(
            f"{path.name}: not UTF-8 text (is it a binary file, or saved in another encoding?); "
            "save it as UTF-8 JSON"
        ) from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CaseFormatError(f"the key {key!r} is given twice; give each key once")
        out[key] = value
    return out


def decode_json(text: str, where: str) -> object:
    """Parse JSON, refusing duplicate keys, with a hint for several cases in one ``.json``."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except CaseFormatError as exc:
        raise CaseFormatError(f"{where}: {exc}") from None
    except RecursionError:
        raise CaseFormatError(
            f"{where}: JSON nested too deeply; a case is an object of age, sex and findings"
        ) from None
    except json.JSONDecodeError as exc:
        hint = ""
        if exc.msg == "Extra data":
            hint = "; several cases go one per line in a .jsonl file"
        raise CaseFormatError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}){hint}"
        ) from None
    except ValueError:  # a number of thousands of digits, beyond what int() converts
        raise CaseFormatError(
            f"{where}: a number in it is thousands of digits long; an age is 0-120"
        ) from None
