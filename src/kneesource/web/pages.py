"""The interview in a browser: server-rendered pages that work with JavaScript off.

Every form is protected against cross-site requests by a double-submit token: a random value in
a ``SameSite=Strict`` cookie that the form must repeat. An answer is stored before the browser is
sent on (POST, then redirect), so a reload never answers twice and a killed server loses nothing
that was acknowledged. The interview's address is its resume link, on any device.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from kneesource.assessment import NOTICE
from kneesource.engine import Engine
from kneesource.errors import InputError
from kneesource.interview import DONT_KNOW, Question, assessment, back, next_question, start
from kneesource.interview.flow import engine_for
from kneesource.interview.state import checklist_given
from kneesource.report.view import result_view
from kneesource.web import bodymap
from kneesource.web.context import engine_of, store_of
from kneesource.web.interviews import (
    SEX_OPTIONS,
    answer_once,
    question_spec,
    report_response,
    status,
)
from kneesource.web.store import UnknownInterviewError

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(resources.files("kneesource.web") / "templates"))
CSRF_COOKIE = "ks_csrf"


def _csrf(request: Request) -> str:
    token: str | None = getattr(request.state, "csrf", None)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        request.state.csrf = token
    return token


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    token = _csrf(request)
    response = TEMPLATES.TemplateResponse(
        request, name, {"csrf": token, "notice": NOTICE, **context}, status_code=status_code
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    fields = {k: [str(v) for v in form.getlist(k)] for k in form}
    sent = (fields.get("csrf") or [""])[0]
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(sent, cookie):
        raise _RefusedError()
    return fields


class _RefusedError(Exception):
    pass


def _error(request: Request, status_code: int, title: str, message: str) -> Response:
    return _page(
        request, "error.html", {"title": title, "message": message}, status_code=status_code
    )


def _cannot_go_on(request: Request, exc: InputError) -> Response:
    """An interview that cannot be taken further here (saved with another knowledge base)."""
    return _error(request, 409, "This interview cannot go on", str(exc))


def _refused(request: Request) -> Response:
    return _error(
        request,
        403,
        "This form has expired",
        "The page was open too long or came from elsewhere. Go back, reload it and answer again.",
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return _page(request, "home.html", {"title": "Where does your knee pain come from?"})


@router.post("/interviews")
async def new_interview(request: Request) -> Response:
    try:
        fields = await _form(request)
    except _RefusedError:
        return _refused(request)
    mode = (fields.get("mode") or ["patient"])[0]
    if mode not in ("patient", "clinician"):
        return _error(
            request, 422, "Unknown mode", f"mode must be patient or clinician, not {mode!r}"
        )
    state = start(engine_of(request), mode=mode)  # type: ignore[arg-type]
    interview_id = await run_in_threadpool(store_of(request).create, state)
    return RedirectResponse(f"/interviews/{interview_id}", status_code=303)


@router.get("/interviews/{interview_id}", response_class=HTMLResponse)
def interview_page(request: Request, interview_id: str) -> Response:
    try:
        stored = store_of(request).load(interview_id)
    except UnknownInterviewError:
        return _error(
            request,
            404,
            "No such interview",
            "There is no interview at this address. Check the link, or start a new interview.",
        )
    try:
        question, result = status(stored.state)
    except InputError as exc:  # saved with another knowledge base, for example
        return _cannot_go_on(request, exc)
    link = str(request.url)
    if question is not None:
        return _page(
            request,
            "question.html",
            {
                "title": question.text,
                "id": interview_id,
                "q": _question_view(engine_of(request), question),
                "answers": len(stored.state.answers),
                "mode": stored.state.mode,
                "link": link,
                "step": f"{len(stored.state.answers)}-{question.id}",
            },
        )
    assert result is not None
    view = result_view(engine_of(request), result, clinician=stored.state.mode == "clinician")
    return _page(
        request,
        "result.html",
        {
            "title": "Your result",
            "id": interview_id,
            "r": view,
            "link": link,
            "mode": stored.state.mode,
            "step": f"{len(stored.state.answers)}-result",
        },
    )


@router.get("/interviews/{interview_id}/report.pdf")
def report_pdf_page(request: Request, interview_id: str) -> Response:
    return _download(request, interview_id, "pdf")


@router.get("/interviews/{interview_id}/fhir.json")
def report_fhir_page(request: Request, interview_id: str) -> Response:
    return _download(request, interview_id, "fhir")


def _download(request: Request, interview_id: str, fmt: str) -> Response:
    try:
        state = store_of(request).load(interview_id).state
    except UnknownInterviewError:
        return _error(request, 404, "No such interview", "There is no interview at this address.")
    try:
        a = assessment(state, case_id=interview_id)
    except InputError as exc:  # saved with another knowledge base, for example
        return _cannot_go_on(request, exc)
    return report_response(engine_of(request), a, state, fmt, download=True)


@router.post("/interviews/{interview_id}/answer")
async def post_answer(request: Request, interview_id: str) -> Response:
    try:
        fields = await _form(request)
    except _RefusedError:
        return _refused(request)
    # The database and the inference block: off the event loop, so other requests go on.
    return await run_in_threadpool(_answer, request, interview_id, fields)


def _answer(request: Request, interview_id: str, fields: dict[str, list[str]]) -> Response:
    store = store_of(request)
    try:
        stored = store.load(interview_id)
    except UnknownInterviewError:
        return _error(request, 404, "No such interview", "There is no interview at this address.")
    question_id = (fields.get("question_id") or [""])[0]
    try:
        engine_for(stored.state)
    except InputError as exc:  # saved with another knowledge base, for example
        return _cannot_go_on(request, exc)
    try:
        spec = question_spec(engine_of(request), question_id)
        value: object
        if fields.get("dont_know"):
            value = DONT_KNOW
        elif spec.type == "multi":
            ticked = [v for v in fields.get("answer", []) if v]
            unsure = [v for v in fields.get("not_sure", []) if v]
            value = checklist_given(ticked, unsure)
        else:
            given = fields.get("answer") or []
            value = given[0] if given else None
            if spec.type == "age" and not value:
                raise InputError("please give your age in whole years (0 to 120)")
        state = answer_once(stored.state, question_id, value)
    except InputError as exc:
        return _error(request, 422, "That answer was not understood", str(exc))
    if state is not stored.state:
        # Whether the interview is over; the result itself is worked out when its page is shown.
        store.save(interview_id, state, finished=next_question(state) is None)
    return RedirectResponse(f"/interviews/{interview_id}", status_code=303)


@router.post("/interviews/{interview_id}/back")
async def post_back(request: Request, interview_id: str) -> Response:
    try:
        await _form(request)
    except _RefusedError:
        return _refused(request)
    return await run_in_threadpool(_back, request, interview_id)


def _back(request: Request, interview_id: str) -> Response:
    store = store_of(request)
    try:
        stored = store.load(interview_id)
    except UnknownInterviewError:
        return _error(request, 404, "No such interview", "There is no interview at this address.")
    store.save(interview_id, back(stored.state))
    return RedirectResponse(f"/interviews/{interview_id}", status_code=303)


@dataclass(frozen=True)
class OptionView:
    id: str
    label: str
    region: str | None  # body-map region, if the option names a place on the leg or back


def _question_view(engine: Engine, q: Question) -> dict[str, Any]:
    spec = question_spec(engine, q.id)
    findings = {o.id: o.finding for o in spec.options}
    options = [OptionView(o.id, o.label, bodymap.region_of(findings.get(o.id))) for o in q.options]
    regions: dict[str, str] = {}
    if q.type == "sex":
        options = [OptionView(i, label, None) for i, label in SEX_OPTIONS]
    for o in options:
        if o.region is not None:
            regions[o.region] = o.id
    return {
        "id": q.id,
        "type": q.type,
        "text": q.text,
        "why": q.why.text,
        "how_to": q.how_to,
        "number": q.number,
        "max": q.max_questions,
        "percent": min(100, round(100 * (q.number - 1) / max(q.max_questions, 1))),
        "options": options,
        "map": bodymap.svg(regions) if q.type == "multi" and regions else None,
    }


__all__ = ["router"]
