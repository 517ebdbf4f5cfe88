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
from kneesource.errors import CaseFormatError, InputError, closest, did_you_mean
from kneesource.interview.questions import Mode, QuestionBank, QuestionSpec

DONT_KNOW = "dont_know"
NOT_GIVEN = "not_given"
PART_KEYS = ("ticked", "not_sure")


@dataclass(frozen=True)
class PartChecklist:
    """A checklist answered in part: the options ticked and the options the person is not sure
    of, each in file order; every other option is answered "no". A person can tell most of a
    checklist without being sure of all of it (no fever, no redness, not sure about warmth), and
    "don't know" to the whole list would lose what they can tell."""

    ticked: tuple[str, ...]
    not_sure: tuple[str, ...]

    def to_json(self) -> dict[str, list[str]]:
        return {"ticked": list(self.ticked), "not_sure": list(self.not_sure)}


Value = int | str | tuple[str, ...] | PartChecklist
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
        return [self.question, value_json(self.value)]


def value_json(value: Value) -> Any:
    """An answer as JSON: a checklist's ticks as a list, a checklist answered in part as
    ``{"ticked": [...], "not_sure": [...]}``."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, PartChecklist):
        return value.to_json()
    return value


def checklist_given(ticked: list[str], unsure: list[str]) -> list[str] | dict[str, list[str]]:
    """A checklist's answer as a front end hands it to ``answer``: the options ticked, with the
    ones the person was not sure of when there are any."""
    return {"ticked": ticked, "not_sure": unsure} if unsure else ticked


def _stored_value(raw: object) -> Value:
    if isinstance(raw, list):
        return tuple(str(i) for i in raw)
    if isinstance(raw, dict):
        if set(raw) != set(PART_KEYS):
            raise ValueError(f"a checklist answered in part has the keys {PART_KEYS}, got {raw}")
        return PartChecklist(*(tuple(str(i) for i in raw[k]) for k in PART_KEYS))
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValueError(f"answer {raw!r}")
    return raw


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
            answers = tuple(Answer(str(q), _stored_value(v)) for q, v in data["answers"])
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
        elif text is not None and text.isdecimal():
            # More than three digits is refused by the 0-120 check below, and thousands of
            # them are never converted (int() refuses over 4,300).
            age = int(text) if len(text.lstrip("0")) <= 3 else 1000
        else:
            shown = raw if not isinstance(raw, str) or len(raw) <= 40 else f"{raw[:40]}..."
            raise InvalidAnswerError(f"question {spec.id!r}: got {shown!r}; {accepted(spec)}")
        if not 0 <= age <= 120:
            shown = str(age) if -1000 < age < 1000 else "a number far beyond 0-120"
            raise InvalidAnswerError(f"question {spec.id!r}: got {shown}; {accepted(spec)}")
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
        if isinstance(raw, PartChecklist):
            raw = raw.to_json()
        if isinstance(raw, Mapping):
            return _part(spec, raw)
        items = raw if isinstance(raw, list | tuple) else None
        if items is not None and all(isinstance(i, str) and i in ids for i in items):
            return tuple(i for i in ids if i in items)  # file order, no repeats
    raise InvalidAnswerError(f"question {spec.id!r}: got {raw!r}; {accepted(spec)}")


def _part(spec: QuestionSpec, raw: Mapping[Any, Any]) -> Value:
    """A checklist answered in part, checked: every option id known, none both ticked and not
    sure. Nothing unsure is a plain list of ticks; everything unsure is "don't know"."""
    ids = [o.id for o in spec.options]
    where = f"question {spec.id!r}"
    extra = [k for k in raw if k not in PART_KEYS]
    if extra:
        raise InvalidAnswerError(
            f"{where}: got the key {extra[0]!r}; a checklist answered in part is an object with "
            f"'ticked' and 'not_sure', each a list of option ids"
        )
    chosen: dict[str, list[str]] = {}
    for key in PART_KEYS:
        items = raw.get(key, [])
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise InvalidAnswerError(f"{where}: {key!r} is a list of option ids, got {items!r}")
        for i in items:
            if i not in ids:
                hint = did_you_mean(closest(i, ids))
                raise InvalidAnswerError(f"{where}: unknown option {i!r} in {key!r}{hint}")
        chosen[key] = [i for i in ids if i in items]
    both = set(chosen["ticked"]) & set(chosen["not_sure"])
    if both:
        raise InvalidAnswerError(
            f"{where}: option {sorted(both)[0]!r} is both ticked and not sure; give it once"
        )
    if not chosen["not_sure"]:
        return tuple(chosen["ticked"])
    if len(chosen["not_sure"]) == len(ids):
        return DONT_KNOW
    return PartChecklist(tuple(chosen["ticked"]), tuple(chosen["not_sure"]))


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
    part = "an object {'ticked': [...], 'not_sure': [...]} for a list answered in part"
    return f"accepted: any of {ids}, one alone or as a list ({none}), {part}, {dk}"


def answer_findings(spec: QuestionSpec, value: Value) -> dict[str, bool]:
    """The findings an answer settles (none for "don't know", age or sex)."""
    if value == DONT_KNOW or spec.type in ("age", "sex"):
        return {}
    if spec.type == "yes_no":
        assert spec.finding is not None
        return {spec.finding: value == "yes"}
    if spec.type == "single":
        return dict(spec.option(str(value)).sets or {})
    ticked, unsure = (
        (value.ticked, value.not_sure) if isinstance(value, PartChecklist) else (value, ())
    )
    assert isinstance(ticked, tuple)
    return {
        o.finding: o.id in ticked
        for o in spec.options
        if o.finding is not None and o.id not in unsure
    }


def unsure_findings(spec: QuestionSpec, value: Value) -> set[str]:
    """The findings an answer says the person is not sure of."""
    if value == DONT_KNOW:
        return set(spec.findings())
    if isinstance(value, PartChecklist):
        return {str(o.finding) for o in spec.options if o.id in value.not_sure}
    return set()


def findings_of(bank: QuestionBank, state: State) -> dict[str, bool]:
    """Every finding settled so far; a later answer overrides an earlier one, except that an
    option left unticked in a checklist does not undo an earlier answer (a checklist does not
    show the options already settled). An option marked "not sure" settles nothing."""
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
