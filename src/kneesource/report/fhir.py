"""FHIR R4 (the R4B models of fhir.resources): the questionnaire, an assessment as a Bundle, and
a filled questionnaire read back as a case.

* ``questionnaire(engine)``: a ``Questionnaire`` generated from ``questions.yaml``: one item per
  question (``linkId`` = question id), an integer for the age, choices with the option ids as
  codes (``"dont_know"`` on every choice, ``"none"`` on checklists).
* ``bundle(engine, assessment, state)``: a ``Bundle`` of type ``collection`` holding the
  ``Patient`` (sex only; the age is an ``Observation``, LOINC 30525-0), the answers as a
  ``QuestionnaireResponse`` (for an interview), every finding as an ``Observation``, a
  ``RiskAssessment`` with one prediction per condition (coded with ICD-10-CM and SNOMED CT from
  the knowledge base) and the triage as a ``ServiceRequest`` whose priority and period give the
  time frame.
* ``case_from_response(engine, data)``: a ``QuestionnaireResponse`` of that questionnaire as the
  interview state it records.

fhir.resources checks the structure, not the codes; the tests check the codes against the
knowledge base.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from kneesource.assessment import NOTICE, Assessment
from kneesource.engine import Engine
from kneesource.errors import CaseFormatError
from kneesource.interview import State, answer, start
from kneesource.interview.questions import QuestionSpec, question_text
from kneesource.interview.state import DONT_KNOW, PartChecklist, Value, checklist_given
from kneesource.interview.triage_link import question_bank

FINDING_SYSTEM = "urn:kneesource:finding"
CONDITION_SYSTEM = "urn:kneesource:condition"
ANSWER_SYSTEM = "urn:kneesource:answer"
QUESTIONNAIRE_URL = "urn:kneesource:questionnaire"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
PRIORITY = {"emergency": "stat", "urgent": "asap", "soon": "urgent", "self_care": "routine"}
# How soon, from the level's own advice: now, within a day, within two weeks.
WITHIN = {"emergency": timedelta(hours=1), "urgent": timedelta(days=1), "soon": timedelta(days=14)}
NOT_SURE_PREFIX = "not_sure:"
SEX_CODES = (("female", "Female"), ("male", "Male"), ("not_given", "Not given"))


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _options(spec: QuestionSpec) -> list[dict[str, Any]]:
    if spec.type == "yes_no":
        pairs = [("yes", "Yes"), ("no", "No")]
    elif spec.type == "sex":
        pairs = list(SEX_CODES)
    else:
        pairs = [(o.id, o.label) for o in spec.options]
    if spec.type == "multi":
        pairs.append(("none", "None of these"))
        pairs += [(f"{NOT_SURE_PREFIX}{o.id}", f"Not sure: {o.label}") for o in spec.options]
    if spec.type != "sex":
        pairs.append((DONT_KNOW, "I don't know"))
    return [{"valueCoding": _coding(ANSWER_SYSTEM, c, d)} for c, d in pairs]


def questionnaire(engine: Engine) -> Questionnaire:
    """The interview's questions as a FHIR ``Questionnaire`` (any SDC form filler can use it)."""
    bank = question_bank(engine)
    items = []
    for spec in bank.questions:
        item: dict[str, Any] = {"linkId": spec.id, "text": question_text(engine.kb, spec)}
        if spec.type == "age":
            item["type"] = "integer"
        else:
            item["type"] = "choice"
            item["answerOption"] = _options(spec)
            item["repeats"] = spec.type == "multi"
        items.append(item)
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "url": QUESTIONNAIRE_URL,
            "version": engine.model.knowledge_base_version,
            "name": "KneesourceInterview",
            "title": "kneesource: where does the knee pain come from?",
            "status": "active",
            "description": NOTICE,
            "item": items,
        }
    )


def _answers(spec: QuestionSpec, value: Value) -> list[dict[str, Any]]:
    if spec.type == "age":
        return [{"valueInteger": int(value)}]  # type: ignore[arg-type]
    if isinstance(value, PartChecklist):
        codes = [*value.ticked, *(f"{NOT_SURE_PREFIX}{o}" for o in value.not_sure)]
    else:
        codes = (list(value) or ["none"]) if isinstance(value, tuple) else [str(value)]
    labels = {o["valueCoding"]["code"]: o["valueCoding"]["display"] for o in _options(spec)}
    return [{"valueCoding": _coding(ANSWER_SYSTEM, c, labels.get(c))} for c in codes]


def questionnaire_response(
    engine: Engine, state: State, when: datetime, subject: str | None = None
) -> QuestionnaireResponse:
    bank = question_bank(engine)
    items = []
    for a in state.answers:
        spec = bank.get(a.question)
        items.append({"linkId": spec.id, "text": spec.text, "answer": _answers(spec, a.value)})
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{QUESTIONNAIRE_URL}|{state.knowledge_base_version}",
        "status": "completed",
        "authored": when.isoformat(),
        "item": items,
    }
    if subject:
        data["subject"] = {"reference": subject}
    return QuestionnaireResponse.model_validate(data)


def case_from_response(engine: Engine, data: object) -> State:
    """The interview a ``QuestionnaireResponse`` of :func:`questionnaire` records (answers in
    the order given); every problem is a :class:`CaseFormatError` naming the item."""
    try:
        response = QuestionnaireResponse.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CaseFormatError(
            f"not a valid QuestionnaireResponse: {where}: {first['msg']}"
        ) from None
    bank = question_bank(engine)
    clinician = any(
        bank.get(i.linkId).clinician_only
        for i in response.item or []
        if i.linkId in {q.id for q in bank.questions}
    )
    state = start(engine, mode="clinician" if clinician else "patient")
    for item in response.item or []:
        spec = bank.get(str(item.linkId))
        answers = item.answer or []
        if spec.type == "age":
            if len(answers) != 1 or answers[0].valueInteger is None:
                raise CaseFormatError(f"item {spec.id!r}: the age is one valueInteger")
            value: object = answers[0].valueInteger
        else:
            codes = [a.valueCoding.code for a in answers if a.valueCoding is not None]
            if not codes or len(codes) != len(answers):
                raise CaseFormatError(f"item {spec.id!r}: every answer is a valueCoding")
            if spec.type == "multi":
                value = _checklist_value([str(c) for c in codes])
            elif len(codes) == 1:
                value = codes[0]
            else:
                raise CaseFormatError(f"item {spec.id!r}: takes one answer, got {len(codes)}")
        state = answer(state, spec.id, value)
    return state


def _checklist_value(codes: list[str]) -> list[str] | str | dict[str, list[str]]:
    """A checklist's codes as an answer: "don't know", a list of ticks, or ticks with the
    options the person was not sure of (codes ``not_sure:<option>``)."""
    if codes == [DONT_KNOW]:
        return DONT_KNOW
    unsure = [c.removeprefix(NOT_SURE_PREFIX) for c in codes if c.startswith(NOT_SURE_PREFIX)]
    ticked = [c for c in codes if c != "none" and not c.startswith(NOT_SURE_PREFIX)]
    return checklist_given(ticked, unsure)


def bundle(
    engine: Engine,
    a: Assessment,
    state: State | None = None,
    when: datetime | None = None,
) -> Bundle:
    """The assessment as a FHIR ``Bundle`` (type ``collection``)."""
    kb = engine.kb
    when = when or datetime.now(UTC)
    stamp = when.isoformat()
    ids: dict[str, str] = {}

    def ref(name: str) -> str:
        return ids.setdefault(name, f"urn:uuid:{uuid.uuid4()}")

    patient_ref = ref("patient")
    entries: list[dict[str, Any]] = []
    patient: dict[str, Any] = {"resourceType": "Patient"}
    if a.case.sex is not None:
        patient["gender"] = a.case.sex
    entries.append({"fullUrl": patient_ref, "resource": patient})
    subject = {"reference": patient_ref}
    observations: list[dict[str, Any]] = [
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [_coding(LOINC, "30525-0", "Age")], "text": "Age"},
            "subject": subject,
            "effectiveDateTime": stamp,
            "valueQuantity": {
                "value": a.case.age,
                "unit": "years",
                "system": "http://unitsofmeasure.org",
                "code": "a",
            },
        }
    ]
    for finding_id, present in a.case.findings.items():
        f = kb.finding(finding_id)
        category = "exam" if f.kind == "exam" else "survey"
        observations.append(
            {
                "resourceType": "Observation",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            _coding(
                                "http://terminology.hl7.org/CodeSystem/observation-category",
                                category,
                            )
                        ]
                    }
                ],
                "code": {
                    "coding": [_coding(FINDING_SYSTEM, f.id, f.clinician)],
                    "text": f.patient,
                },
                "subject": subject,
                "effectiveDateTime": stamp,
                "valueBoolean": present,
            }
        )
    basis = []
    for i, obs in enumerate(observations):
        url = ref(f"observation-{i}")
        entries.append({"fullUrl": url, "resource": obs})
        basis.append({"reference": url})
    if state is not None:
        response = questionnaire_response(engine, state, when, patient_ref)
        entries.append({"fullUrl": ref("response"), "resource": response.model_dump(mode="json")})
    predictions = []
    for c in a.conditions:
        codes = kb.condition(c.id).codes
        coding = [_coding(CONDITION_SYSTEM, c.id, c.clinical_name)]
        coding += [_coding(ICD10CM, code) for code in codes.icd10cm]
        coding += [_coding(SNOMED, code) for code in codes.snomed]
        predictions.append(
            {
                "outcome": {"coding": coding, "text": c.name},
                "probabilityDecimal": round(c.probability, 6),
            }
        )
    assert a.triage is not None
    t = a.triage
    reasons = " ".join(r.message for r in t.reasons)
    risk_ref = ref("risk")
    entries.append(
        {
            "fullUrl": risk_ref,
            "resource": {
                "resourceType": "RiskAssessment",
                "status": "final",
                "subject": subject,
                "occurrenceDateTime": stamp,
                "method": {"text": f"kneesource {a.knowledge_base_version}"},
                "basis": basis,
                "prediction": predictions,
                "mitigation": f"{t.level}: {t.advice.split(chr(10) * 2)[0]}",
                "note": [{"text": NOTICE}],
            },
        }
    )
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "proposal",
        "priority": PRIORITY[t.level],
        "code": {
            "coding": [_coding("urn:kneesource:triage", t.level)],
            "text": t.advice.split("\n\n")[0],
        },
        "subject": subject,
        "authoredOn": stamp,
        "reasonReference": [{"reference": risk_ref}],
    }
    if t.level in WITHIN:
        request["occurrencePeriod"] = {"start": stamp, "end": (when + WITHIN[t.level]).isoformat()}
    if reasons:
        request["note"] = [{"text": reasons}]
    entries.append({"fullUrl": ref("request"), "resource": request})
    return Bundle.model_validate(
        {"resourceType": "Bundle", "type": "collection", "timestamp": stamp, "entry": entries}
    )
