"""What the web app and the API say about an interview: its question or its result, as data.

Both front ends build on the library's pure interview functions (``start``, ``answer``,
``back``, ``next_question``, ``assessment``); this module only turns their results into JSON and
keeps the rules both share (an answer re-sent unchanged changes nothing).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from kneesource.assessment import Assessment
from kneesource.engine import Engine
from kneesource.interview import Question, State, answer, assessment, next_question
from kneesource.interview.flow import engine_for
from kneesource.interview.questions import QuestionSpec
from kneesource.interview.state import normalise
from kneesource.interview.triage_link import question_bank
from kneesource.report.document import report_html, report_pdf
from kneesource.report.fhir import bundle

SEX_OPTIONS = (("female", "Female"), ("male", "Male"), ("not_given", "I would rather not say"))


def question_spec(engine: Engine, question_id: str) -> QuestionSpec:
    return question_bank(engine).get(question_id)


def question_json(q: Question) -> dict[str, Any]:
    options = [{"id": o.id, "label": o.label} for o in q.options]
    if q.type == "sex" and not options:
        options = [{"id": i, "label": label} for i, label in SEX_OPTIONS]
    return {
        "id": q.id,
        "type": q.type,
        "text": q.text,
        "options": options,
        "why": q.why.text,
        "how_to": q.how_to,
        "number": q.number,
        "max_questions": q.max_questions,
    }


def answer_once(state: State, question_id: str, value: object) -> State:
    """``answer``, except that an answer equal to the one already given changes nothing (a
    client may re-send a request whose response it lost)."""
    spec = question_bank(engine_for(state)).get(question_id)
    if state.answered(question_id) and state.value(question_id) == normalise(spec, value):
        return state
    return answer(state, question_id, value)


# Media type and download name of each report format.
REPORT_TYPES = {
    "pdf": ("application/pdf", "kneesource-report.pdf"),
    "html": ("text/html; charset=utf-8", "kneesource-report.html"),
    "fhir": ("application/fhir+json", "kneesource-fhir.json"),
}


def report_response(
    engine: Engine, a: Assessment, state: State | None, fmt: str, download: bool = False
) -> Response:
    """A report as an HTTP response: the clinician's PDF, its HTML, or a FHIR bundle. A PDF, and
    any format asked for as a download (indented, for a person to keep), is an attachment."""
    body: str | bytes
    if fmt == "fhir":
        body = bundle(engine, a, state).model_dump_json(indent=2 if download else None)
    else:
        html = report_html(engine, a, state)
        body = report_pdf(html) if fmt == "pdf" else html
    kind, name = REPORT_TYPES[fmt]
    attach = download or fmt == "pdf"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'} if attach else None
    return Response(body, media_type=kind, headers=headers)


def status(state: State) -> tuple[Question | None, Assessment | None]:
    """The question to ask now, or (when the interview is over) the assessment."""
    q = next_question(state)
    if q is not None:
        return q, None
    return None, assessment(state)


def status_json(interview_id: str | None, state: State) -> dict[str, Any]:
    q, result = status(state)
    out: dict[str, Any] = {}
    if interview_id is not None:
        out["id"] = interview_id
    out["mode"] = state.mode
    out["answers"] = len(state.answers)
    if q is not None:
        out["status"] = "asking"
        out["question"] = question_json(q)
    else:
        assert result is not None
        out["status"] = "done"
        out["assessment"] = result.to_dict()
    return out
