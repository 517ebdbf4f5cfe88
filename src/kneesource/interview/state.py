"""The interview state: who is being interviewed and every answer so far, in order.

The state is a frozen, hashable value that turns into plain JSON and back, so it can be stored,
sent and replayed. Everything else (the findings, the next question, the assessment) is derived
from it, which is what makes ``back`` exact: dropping the last answer restores the earlier state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kneesource.case import Case
from kneesource.errors import CaseFormatError, InputError
from kneesource.interview.questions import Mode, QuestionBank, QuestionSpec

DONT_KNOW = "dont_know"
NOT_GIVEN = "not_given"
Value = int | str | tuple[str, ...]
_YES = {"yes", "y", "true"}
_NO = {"no", "n", "false"}
_DONT = {DONT_KNOW, "dont know", "don't know", "d", "dk", "not sure", "unsure"}
STATE_FORMAT = 1


class InvalidAnswerError(InputError):
    """An answer a question does not accept; the message lists what it accepts."""


@dataclass(frozen=True)
class Answer:
    question: str
    value: Value

    def to_json(self) -> list[Any]:
        return [self.question, list(self.value) if isinstance(self.value, tuple) else self.value]


@dataclass(frozen=True)
class State:
    """A whole interview: mode, knowledge base version and the answers in the order given."""

    mode: Mode
    knowledge_base_version: str
    answers: tuple[Answer, ...] = ()

    def answered(self, question_id: str) -> bool:
        return any(a.question == question_id for a in self.answers)

    def value(self, question_id: str) -> Value | None:
        for a in self.answers:
            if a.question == question_id:
                return a.value
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "mode": self.mode,
            "knowledge_base_version": self.knowledge_base_version,
            "answers": [a.to_json() for a in self.answers],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> State:
        """Rebuild a state from :meth:`to_dict` output; raises :class:`InputError` if malformed."""
        try:
            if data.get("format") != STATE_FORMAT:
                raise ValueError(f"format {data.get('format')!r} (expected {STATE_FORMAT})")
            mode = data["mode"]
            if mode not in ("patient", "clinician"):
                raise ValueError(f"mode {mode!r}")
            answers = tuple(
                Answer(str(q), tuple(v) if isinstance(v, list) else v) for q, v in data["answers"]
            )
            return cls(mode, str(data["knowledge_base_version"]), answers)
        except (KeyError, TypeError, ValueError) as exc:
            raise CaseFormatError(f"not a saved interview state: {exc}") from None


def normalise(spec: QuestionSpec, raw: object) -> Value:
    """The canonical form of an answer to ``spec``, or :class:`InvalidAnswerError`."""
    if raw is None:
        if spec.type == "age":
            raise InvalidAnswerError(f"question {spec.id!r}: {accepted(spec)}")
        return DONT_KNOW
    text = raw.strip().lower().replace("’", "'") if isinstance(raw, str) else None
    if text in _DONT and spec.type != "age":
        return DONT_KNOW
    if spec.type == "age":
        if isinstance(raw, int) and not isinstance(raw, bool):
            age = raw
        elif text is not None and text.isdigit():
            age = int(text)
        else:
            raise InvalidAnswerError(f"question {spec.id!r}: got {raw!r}; {accepted(spec)}")
        if not 0 <= age <= 120:
            raise InvalidAnswerError(f"question {spec.id!r}: got {age}; {accepted(spec)}")
        return age
    if spec.type == "sex":
        if text in ("female", "f", "woman"):
            return "female"
        if text in ("male", "m", "man"):
            return "male"
        if text in (NOT_GIVEN, "not given", "prefer not to say", "other"):
            return NOT_GIVEN
    elif spec.type == "yes_no":
        if raw is True or text in _YES:
            return "yes"
        if raw is False or text in _NO:
            return "no"
    elif spec.type == "single":
        if text in {o.id for o in spec.options}:
            return text
    else:
        if text in ("none", ""):
            return ()
        ids = [o.id for o in spec.options]
        if text in ids:
            return (text,)  # one option named alone
        items = raw if isinstance(raw, list | tuple) else None
        if items is not None and all(isinstance(i, str) and i in ids for i in items):
            return tuple(i for i in ids if i in items)  # file order, no repeats
    raise InvalidAnswerError(f"question {spec.id!r}: got {raw!r}; {accepted(spec)}")


def accepted(spec: QuestionSpec) -> str:
    """What ``spec`` accepts, in words."""
    dk = f"or {DONT_KNOW!r}"
    if spec.type == "age":
        return "accepted: a whole number of years from 0 to 120"
    if spec.type == "sex":
        return f"accepted: 'female', 'male' or {NOT_GIVEN!r}"
    if spec.type == "yes_no":
        return f"accepted: 'yes', 'no' (or true/false) {dk}"
    ids = ", ".join(repr(o.id) for o in spec.options)
    if spec.type == "single":
        return f"accepted: one of {ids} {dk}"
    none = "an empty list or 'none' for none of them"
    return f"accepted: any of {ids}, one alone or as a list ({none}) {dk}"


def answer_findings(spec: QuestionSpec, value: Value) -> dict[str, bool]:
    """The findings an answer settles (none for "don't know", age or sex)."""
    if value == DONT_KNOW or spec.type in ("age", "sex"):
        return {}
    if spec.type == "yes_no":
        assert spec.finding is not None
        return {spec.finding: value == "yes"}
    if spec.type == "single":
        return dict(spec.option(str(value)).sets or {})
    assert isinstance(value, tuple)
    return {o.finding: o.id in value for o in spec.options if o.finding is not None}


def findings_of(bank: QuestionBank, state: State) -> dict[str, bool]:
    """Every finding settled so far; a later answer overrides an earlier one, except that an
    option left unticked in a checklist does not undo an earlier answer (a checklist does not
    show the options already settled)."""
    out: dict[str, bool] = {}
    for a in state.answers:
        spec = bank.get(a.question)
        settled = answer_findings(spec, a.value)
        if spec.type == "multi":
            settled = {f: v for f, v in settled.items() if v or f not in out}
        out.update(settled)
    return out


def age_sex(
    bank: QuestionBank, state: State
) -> tuple[int | None, Literal["female", "male"] | None]:
    age: int | None = None
    sex: Literal["female", "male"] | None = None
    for a in state.answers:
        kind = bank.get(a.question).type
        if kind == "age" and isinstance(a.value, int):
            age = a.value
        elif kind == "sex" and a.value in ("female", "male"):
            sex = "female" if a.value == "female" else "male"
    return age, sex


def case_of(bank: QuestionBank, state: State, case_id: str | None = None) -> Case:
    """The case the answers describe (age must have been answered)."""
    age, sex = age_sex(bank, state)
    if age is None:
        raise InputError("the interview has no age yet; answer the 'age' question first")
    return Case(age=age, sex=sex, findings=findings_of(bank, state), case_id=case_id)
