"""The web app and the REST API on one FastAPI application.

``create_app(db_url)`` builds it: the API under ``/v1`` (documented at ``/docs`` and
``/openapi.json``), the server-rendered interview at ``/``, and ``/health``. Errors are
``application/problem+json`` (RFC 9457) with the same messages as the command line, which name
the bad value and the closest valid id. Security basics are middleware: a content security
policy with no inline scripts, no framing, a 64 KB request limit, optional API keys for ``/v1``
(``KNEESOURCE_API_KEYS``, comma separated), CORS closed (no CORS headers are ever sent).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kneesource.engine import Engine, default_engine
from kneesource.errors import InputError, UnknownIdError
from kneesource.web.store import InterviewStore, UnknownInterviewError, database_url

MAX_BODY = 64 * 1024
API_KEYS_ENV = "KNEESOURCE_API_KEYS"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def create_app(db: str | None = None, api_keys: str | None = None) -> FastAPI:
    engine = default_engine()
    store = InterviewStore(database_url(db))
    keys_text = api_keys if api_keys is not None else os.environ.get(API_KEYS_ENV, "")
    keys = frozenset(k.strip() for k in keys_text.split(",") if k.strip())
    app = FastAPI(
        title="kneesource",
        version=engine.model.knowledge_base_version,
        description=(
            "Decision support for knee pain: a ranked differential with probabilities, the "
            "source of the pain, a triage level with reasons, and the adaptive interview. It is "
            "decision support, not a diagnosis."
        ),
    )
    app.state.store = store
    app.state.engine = engine
    _warm_up(engine)

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        # Read as a number only when it is a short run of plain digits (anything else is not
        # a size this server accepts).
        short = length is not None and length.isascii() and length.isdigit() and len(length) < 12
        if length is not None and (not short or int(length) > MAX_BODY):
            response: Response = problem(
                413, "Request too large", f"the body may be at most {MAX_BODY} bytes"
            )
        elif length is None and "transfer-encoding" in request.headers:
            response = problem(411, "Length required", "send the body with a Content-Length header")
        elif keys and request.url.path.startswith("/v1") and not _authorised(request, keys):
            response = problem(
                401,
                "API key required",
                "send a valid key in the X-API-Key header (keys are set with KNEESOURCE_API_KEYS)",
            )
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(UnknownInterviewError)
    async def _unknown_interview(request: Request, exc: UnknownInterviewError) -> Response:
        return problem(404, "Unknown interview", str(exc))

    @app.exception_handler(UnknownIdError)
    async def _unknown_id(request: Request, exc: UnknownIdError) -> Response:
        return problem(
            422, "Unknown id", str(exc), value=exc.value, suggestions=list(exc.suggestions)
        )

    @app.exception_handler(InputError)
    async def _bad_input(request: Request, exc: InputError) -> Response:
        return problem(422, "Invalid input", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, "Error", str(exc.detail))

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """The service is up; the knowledge base version it serves."""
        return {"status": "ok", "knowledge_base_version": engine.model.knowledge_base_version}

    from kneesource.web.api import router as api_router
    from kneesource.web.pages import router as pages_router

    app.include_router(api_router)
    app.include_router(pages_router)
    static = resources.files("kneesource.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def _warm_up(engine: Engine) -> None:
    """Load every compiled kernel (``exact.warm_up``: the serial and threaded batch kernels and
    bucket elimination's) and build the interview's tables once, before the first person waits
    for them: the first adaptive question of a process costs about 0.4 s, every later one
    milliseconds, and the first wide case 0.3 s more."""
    from kneesource.inference.exact import warm_up
    from kneesource.interview import answer, next_question, start

    warm_up(engine.model)

    state = answer(answer(start(engine), "age", 40), "sex", "not_given")
    for _ in range(8):
        question = next_question(state)
        if question is None or question.phase == "adaptive":
            break
        state = answer(state, question.id, "dont_know")


def _authorised(request: Request, keys: frozenset[str]) -> bool:
    given = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if given is None and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return given is not None and given in keys
