"""The REST API, version 1: assessments, stored interviews and a stateless next question."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from kneesource.case import parse_case
from kneesource.engine import default_engine
from kneesource.interview import assessment, back, start
from kneesource.interview.state import State
from kneesource.web.context import engine_of, store_of
from kneesource.web.interviews import answer_once, report_response, status_json


class Problem(BaseModel):
    """An error (RFC 9457): what went wrong, and for an unknown id the closest valid ones."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    value: str | None = None
    suggestions: list[str] | None = None
    errors: list[dict[str, str]] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("An API key is required and was missing or wrong"),
    411: _problem("The body was sent without a Content-Length"),
    413: _problem("The body is larger than 64 KB"),
    422: _problem("The input is not acceptable: the detail names the bad value"),
}
router = APIRouter(prefix="/v1", tags=["v1"], responses=ERRORS)
# Strict types: a value is checked by the same code as the command line (its messages), never
# coerced first (lax parsing would read true as the age 1, and 1 or "yes" as a present finding).
AnswerValue = StrictInt | StrictStr | list[StrictStr] | dict[StrictStr, list[StrictStr]] | None


def _finding_ids() -> list[JsonValue]:
    model = default_engine().model
    return [*model.finding_ids, *model.context_ids]


class CaseIn(BaseModel):
    """A case as `kneesource assess` reads it. The bounds and ids are documented here and
    checked by the same code as the command line, which words its messages."""

    model_config = ConfigDict(extra="forbid")
    # A whole number of years; a float such as 52.0 is read as the command line reads it.
    age: StrictInt | StrictFloat = Field(json_schema_extra={"minimum": 0, "maximum": 120})
    sex: Literal["female", "male"] | None = None
    findings: dict[str, StrictBool | None] = Field(
        default_factory=dict,
        description="finding id -> true (present), false (absent) or null (unknown)",
        json_schema_extra={"propertyNames": {"enum": _finding_ids()}},
    )
    id: str | None = None
    note: str | None = None


class NewInterview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["patient", "clinician"] = "patient"


class GivenAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: str = Field(min_length=1, max_length=60)
    answer: AnswerValue = Field(
        description='a number (age), "yes", "no", "dont_know", an option id, a list of ids, or '
        'for a checklist answered in part {"ticked": [ids], "not_sure": [ids]}'
    )


class Answers(BaseModel):
    """A whole interview kept by the caller: the answers given so far, in the order given."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["patient", "clinician"] = "patient"
    answers: dict[str, AnswerValue] = Field(
        default_factory=dict, description="question id -> answer, as `interview --answers` reads"
    )


def _json(content: dict[str, Any]) -> JSONResponse:
    """Plain JSON (the library's dictionaries hold only JSON types): FastAPI's generic encoder
    would take as long as the assessment itself."""
    return JSONResponse(content)


@router.post("/assess")
def assess(request: Request, case: CaseIn) -> JSONResponse:
    """Assess a case as `kneesource assess` reads it: `{"age", "sex", "findings"}`. The answer
    is the JSON `assess --json` prints."""
    engine = engine_of(request)
    data = case.model_dump(exclude_unset=True)
    return _json(engine.assess(parse_case(data, engine.model, where="body")).to_dict())


@router.post("/interviews", status_code=201)
def create_interview(request: Request, body: NewInterview | None = None) -> JSONResponse:
    """Start an interview; the answer holds its id and the first question."""
    state = start(engine_of(request), mode=(body or NewInterview()).mode)
    interview_id = store_of(request).create(state)
    return JSONResponse(status_json(interview_id, state), status_code=201)


@router.get("/interviews/{interview_id}", responses={404: _problem("No interview with that id")})
def get_interview(request: Request, interview_id: str) -> JSONResponse:
    """Where an interview stands: the question to ask now, or the assessment when it is done."""
    return _json(status_json(interview_id, store_of(request).load(interview_id).state))


@router.post(
    "/interviews/{interview_id}/answers", responses={404: _problem("No interview with that id")}
)
def post_answer(request: Request, interview_id: str, given: GivenAnswer) -> JSONResponse:
    """Answer a question (normally the one just asked). The answer is stored before this
    responds; re-sending the same answer changes nothing."""
    store = store_of(request)
    state = store.load(interview_id).state
    new = answer_once(state, given.question_id, given.answer)
    out = status_json(interview_id, new)
    if new is not state:
        store.save(interview_id, new, finished=out["status"] == "done")
    return _json(out)


@router.post(
    "/interviews/{interview_id}/back", responses={404: _problem("No interview with that id")}
)
def go_back(request: Request, interview_id: str) -> JSONResponse:
    """Undo the last answer."""
    store = store_of(request)
    state = back(store.load(interview_id).state)
    store.save(interview_id, state)
    return _json(status_json(interview_id, state))


_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report",
        "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "application/fhir+json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
        },
    },
    404: _problem("No interview with that id"),
}


@router.get("/interviews/{interview_id}/report.pdf", responses=_REPORT_RESPONSES)
def interview_pdf(request: Request, interview_id: str) -> Response:
    """The clinician report of an interview (PDF, A4)."""
    state = store_of(request).load(interview_id).state
    return report_response(
        engine_of(request), assessment(state, case_id=interview_id), state, "pdf"
    )


@router.get("/interviews/{interview_id}/fhir", responses=_REPORT_RESPONSES)
def interview_fhir(request: Request, interview_id: str) -> Response:
    """The interview as a FHIR R4 Bundle (Patient, QuestionnaireResponse, Observations,
    RiskAssessment, ServiceRequest)."""
    state = store_of(request).load(interview_id).state
    return report_response(
        engine_of(request), assessment(state, case_id=interview_id), state, "fhir"
    )


@router.post("/report", responses=_REPORT_RESPONSES)
def report(
    request: Request, case: CaseIn, format: Literal["pdf", "fhir", "html"] = "pdf"
) -> Response:
    """The report of a case: PDF (default), HTML, or a FHIR R4 Bundle (`?format=fhir`)."""
    engine = engine_of(request)
    a = engine.assess(parse_case(case.model_dump(exclude_unset=True), engine.model, "body"))
    return report_response(engine, a, None, format)


@router.post("/next-question")
def stateless_next(request: Request, body: Answers) -> JSONResponse:
    """For callers who keep their own state: the question to ask after these answers (or that
    it is time to stop), with the assessment of the answers so far."""
    state: State = start(engine_of(request), mode=body.mode)
    for question_id, value in body.answers.items():
        state = answer_once(state, question_id, value)
    out = status_json(None, state)
    if out["status"] == "asking":
        # Nothing can be assessed before the age is known.
        out["assessment"] = assessment(state).to_dict() if state.answered("age") else None
    return _json(out)


@router.get("/findings")
def findings(request: Request) -> list[dict[str, Any]]:
    """The findings a case may hold, with patient and clinician wording."""
    kb = engine_of(request).kb
    return [
        {"id": f.id, "kind": f.kind, "patient": f.patient, "clinician": f.clinician}
        for f in kb.findings
    ]


@router.get("/conditions")
def conditions(request: Request) -> list[dict[str, Any]]:
    """The conditions the engine ranks, with plain and clinical names."""
    kb = engine_of(request).kb
    return [
        {
            "id": c.id,
            "name": c.name,
            "clinical_name": c.clinical_name,
            "source": c.source_group,
            "serious": c.serious,
        }
        for c in kb.conditions
    ]
