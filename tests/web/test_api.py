"""The REST API over real HTTP, against `kneesource serve` in its own process.

Expected values come from the command line run on the same input (`kneesource assess --json`,
`kneesource interview --answers --json`) and from the knowledge base's own lists; the server must
say the same thing."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from kneesource.engine import default_engine
from tests.web.conftest import Server, start_server, stored_codes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ENGINE = default_engine()
PROBLEM = "application/problem+json"


def _cli_json(*args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "kneesource", *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def _answer_everything(
    client: httpx.Client, base: str, interview: dict[str, Any]
) -> dict[str, Any]:
    """Age 68, female, "don't know" to the rest: to the end of the interview."""
    state = interview
    for _ in range(80):
        if state["status"] == "done":
            return state
        q = state["question"]
        value: object = {"age": 68, "sex": "female"}.get(q["type"], "dont_know")
        r = client.post(
            f"{base}/v1/interviews/{interview['id']}/answers",
            json={"question_id": q["id"], "answer": value},
        )
        assert r.status_code == 200, r.text
        state = r.json()
    raise AssertionError("the interview did not end within 80 answers")


def test_health_names_the_knowledge_base(server: Server) -> None:
    r = httpx.get(f"{server.url}/health")
    assert r.json() == {
        "status": "ok",
        "knowledge_base_version": ENGINE.model.knowledge_base_version,
    }


def test_assess_gives_what_the_command_line_gives(server: Server) -> None:
    path = EXAMPLES / "back_and_knee_68f.json"
    r = httpx.post(f"{server.url}/v1/assess", json=json.loads(path.read_text()))
    assert r.status_code == 200
    assert r.json() == _cli_json("assess", str(path), "--json")


def test_a_bad_case_is_a_problem_naming_the_value_and_the_closest_id(server: Server) -> None:
    r = httpx.post(f"{server.url}/v1/assess", json={"age": 40, "findings": {"back_pian": True}})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 422 and "back_pian" in body["detail"]
    assert "back_pain" in body["suggestions"]
    r = httpx.post(f"{server.url}/v1/assess", json={"age": 140})
    assert r.status_code == 422 and "between 0 and 120" in r.json()["detail"]
    r = httpx.post(
        f"{server.url}/v1/assess",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ({"age": True}, "age"),  # a lax parser would read it as the age 1
        ({"age": "40"}, "age"),  # the command line refuses a quoted age too
        ({"age": 40, "findings": {"knee_swelling": 1}}, "knee_swelling"),
        ({"age": 40, "findings": {"knee_swelling": "yes"}}, "knee_swelling"),
    ],
)
def test_values_the_command_line_refuses_are_refused_not_coerced(
    server: Server, case: dict[str, object], field: str, tmp_path: Path
) -> None:
    r = httpx.post(f"{server.url}/v1/assess", json=case)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert field in r.json()["detail"]
    # The command line refuses the same case (exit 2).
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    done = subprocess.run(
        [sys.executable, "-m", "kneesource", "assess", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_an_age_written_as_a_whole_float_is_read_as_the_command_line_reads_it(
    server: Server,
) -> None:
    r = httpx.post(f"{server.url}/v1/assess", json={"age": 52.0})
    assert r.status_code == 200 and r.json()["triage"]["level"]
    r = httpx.post(f"{server.url}/v1/assess", json={"age": 52.5})
    assert r.status_code == 422 and "whole number" in r.json()["detail"]


def test_an_interview_from_start_to_result(server: Server) -> None:
    with httpx.Client() as client:
        r = client.post(f"{server.url}/v1/interviews", json={"mode": "patient"})
        assert r.status_code == 201
        first = r.json()
        # 128 random bits in URL-safe base64: 22 characters.
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", first["id"])
        assert first["status"] == "asking" and first["question"]["id"] == "age"
        assert set(first["question"]) >= {"id", "type", "text", "options", "why"}
        done = _answer_everything(client, server.url, first)
        assert done["assessment"]["triage"]["level"] in ("soon", "urgent", "emergency", "self_care")
        got = client.get(f"{server.url}/v1/interviews/{first['id']}").json()
        assert got == done


def test_resending_an_answer_changes_nothing_and_back_undoes_one(server: Server) -> None:
    with httpx.Client() as client:
        start = client.post(f"{server.url}/v1/interviews", json={}).json()
        url = f"{server.url}/v1/interviews/{start['id']}"
        once = client.post(f"{url}/answers", json={"question_id": "age", "answer": 30}).json()
        twice = client.post(f"{url}/answers", json={"question_id": "age", "answer": "30"}).json()
        assert once == twice and twice["answers"] == 1
        back = client.post(f"{url}/back").json()
        assert back["answers"] == 0 and back["question"]["id"] == "age"


def test_interview_errors_are_problems(server: Server) -> None:
    with httpx.Client() as client:
        r = client.get(f"{server.url}/v1/interviews/nope")
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
        start = client.post(f"{server.url}/v1/interviews", json={}).json()
        url = f"{server.url}/v1/interviews/{start['id']}/answers"
        r = client.post(url, json={"question_id": "age", "answer": "old"})
        assert r.status_code == 422 and "whole number" in r.json()["detail"]
        # An age of 5,000 digits is refused by name: int() alone would raise (a server error).
        r = client.post(url, json={"question_id": "age", "answer": "9" * 5000})
        assert r.status_code == 422 and "far beyond 0-120" in r.json()["detail"]
        r = client.post(url, json={"question_id": "age", "answer": True})  # not the age 1
        assert r.status_code == 422
        r = client.post(url, json={"question_id": "ages", "answer": 3})
        assert r.status_code == 422 and "age" in r.json()["suggestions"]
        r = client.post(url, json={"question_id": "age"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("answer")
        r = client.post(f"{server.url}/v1/interviews", json={"mode": "doctor"})
        assert r.status_code == 422 and "mode" in r.json()["detail"]


def test_a_checklist_answered_in_part(server: Server) -> None:
    # Ticked, not sure, and the rest "no": stored as given (the FHIR export shows the stored
    # answer), the same through the stateless route, and a bad option refused by name.
    part = {"ticked": ["inner"], "not_sure": ["front"]}
    with httpx.Client() as client:
        start = client.post(f"{server.url}/v1/interviews", json={}).json()
        url = f"{server.url}/v1/interviews/{start['id']}"
        for question_id, value in (("age", 52), ("sex", "female"), ("where", part)):
            r = client.post(f"{url}/answers", json={"question_id": question_id, "answer": value})
            assert r.status_code == 200, r.text
        bundle = client.get(f"{url}/fhir").json()
        assert stored_codes(bundle, "where") == ["inner", "not_sure:front"]
        answers = {"age": 52, "sex": "female", "where": part}
        stateless = client.post(f"{server.url}/v1/next-question", json={"answers": answers})
        assert stateless.json()["question"] == client.get(url).json()["question"]
        bad = {"ticked": ["iner"], "not_sure": []}
        r = client.post(f"{url}/answers", json={"question_id": "where", "answer": bad})
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
        assert "unknown option 'iner' in 'ticked'; did you mean 'inner'" in r.json()["detail"]


def test_next_question_for_callers_who_keep_their_own_state(server: Server) -> None:
    answers = json.loads((EXAMPLES / "answers_runner_31f.json").read_text())
    r = httpx.post(f"{server.url}/v1/next-question", json={"answers": answers})
    assert r.status_code == 200
    body = r.json()
    # The same answers through the command line: the interview goes on from the same place.
    cli = _cli_json("interview", "--answers", str(EXAMPLES / "answers_runner_31f.json"), "--json")
    assert body["assessment"]["conditions"][0]["id"] in {
        c["id"] for c in cli["assessment"]["conditions"][:3]
    }
    if body["status"] == "asking":
        assert body["question"]["id"] not in answers
    empty = httpx.post(f"{server.url}/v1/next-question", json={}).json()
    assert empty["question"]["id"] == "age" and empty["assessment"] is None


def test_the_vocabulary_is_listed(server: Server) -> None:
    findings = httpx.get(f"{server.url}/v1/findings").json()
    conditions = httpx.get(f"{server.url}/v1/conditions").json()
    assert [f["id"] for f in findings] == [f.id for f in ENGINE.kb.findings]
    assert [c["id"] for c in conditions] == list(ENGINE.model.condition_ids)
    assert all(f["patient"] and f["clinician"] for f in findings)


def test_openapi_documents_every_route(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path in (
        "/health",
        "/v1/assess",
        "/v1/interviews",
        "/v1/interviews/{interview_id}",
        "/v1/interviews/{interview_id}/answers",
        "/v1/interviews/{interview_id}/back",
        "/v1/next-question",
        "/v1/findings",
        "/v1/conditions",
    ):
        assert path in spec["paths"], path
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_security_headers_size_limit_and_no_cors(server: Server) -> None:
    r = httpx.get(f"{server.url}/", headers={"Origin": "https://elsewhere.example"})
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in r.headers
    big = {"age": 40, "findings": {f"x{i}": True for i in range(10_000)}}  # about 120 KB
    r = httpx.post(f"{server.url}/v1/assess", json=big)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    # A body without a stated length (chunked) is refused before it is read.
    chunks = (part for part in [b'{"age": ', b"40}"])
    r = httpx.post(f"{server.url}/v1/assess", content=chunks)
    assert r.status_code == 411


def test_forms_refuse_a_request_without_the_page_token(server: Server) -> None:
    r = httpx.post(f"{server.url}/interviews", data={"mode": "patient"})
    assert r.status_code == 403
    with httpx.Client(base_url=server.url) as client:
        page = client.get("/")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        r = client.post("/interviews", data={"mode": "patient", "csrf": token.group(1)})
        assert r.status_code == 303 and r.headers["location"].startswith("/interviews/")


def test_an_interview_of_another_knowledge_base_gets_an_error_page(
    sqlite_url: str, server: Server
) -> None:
    # Expected: the message the library gives (flow.engine_for), on an HTML page with 409 for
    # a browser, wherever the person goes next: the interview, its report, an answer.
    with httpx.Client(base_url=server.url) as client:
        page = client.get("/")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        made = client.post("/interviews", data={"mode": "patient", "csrf": token.group(1)})
        interview_id = made.headers["location"].rsplit("/", 1)[1]
        with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
            (saved,) = db.execute(
                "SELECT state FROM sessions WHERE id = ?", (interview_id,)
            ).fetchone()
            old = {**json.loads(saved), "knowledge_base_version": "0.0.1-old"}
            db.execute(
                "UPDATE sessions SET state = ? WHERE id = ?", (json.dumps(old), interview_id)
            )
        for r in (
            client.get(f"/interviews/{interview_id}"),
            client.get(f"/interviews/{interview_id}/report.pdf"),
            client.post(
                f"/interviews/{interview_id}/answer",
                data={"question_id": "age", "answer": "40", "csrf": token.group(1)},
            ),
        ):
            assert r.status_code == 409, r.text
            assert r.headers["content-type"].startswith("text/html")
            assert "0.0.1-old" in r.text and "start a new interview" in r.text


def test_the_database_file_is_private(sqlite_url: str, server: Server) -> None:
    # Health answers: readable by the owner only, like the terminal's file.
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    assert path.stat().st_mode & 0o777 == 0o600


def test_api_keys_when_configured(sqlite_url: str) -> None:
    keyed = start_server(sqlite_url, {"KNEESOURCE_API_KEYS": "k1, k2"})
    try:
        assert httpx.get(f"{keyed.url}/v1/conditions").status_code == 401
        assert (
            httpx.get(f"{keyed.url}/v1/conditions", headers={"X-API-Key": "k2"}).status_code == 200
        )
        bearer = {"Authorization": "Bearer k1"}
        assert httpx.get(f"{keyed.url}/v1/findings", headers=bearer).status_code == 200
        assert httpx.get(f"{keyed.url}/health").status_code == 200  # the service check stays open
    finally:
        keyed.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_minus_9_loses_no_acknowledged_answer(
    backend: str, request: pytest.FixtureRequest
) -> None:
    db = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    first = start_server(db)
    try:
        with httpx.Client() as client:
            start = client.post(f"{first.url}/v1/interviews", json={}).json()
            url = f"{first.url}/v1/interviews/{start['id']}/answers"
            state = start
            for value in (57, "male"):
                q = state["question"]
                state = client.post(url, json={"question_id": q["id"], "answer": value}).json()
            acknowledged = state["question"]
    finally:
        first.kill()
    second = start_server(db)
    try:
        again = httpx.get(f"{second.url}/v1/interviews/{start['id']}").json()
        assert again["answers"] == 2
        assert again["question"] == acknowledged
    finally:
        second.stop()


def test_the_whole_interview_on_postgresql(postgres_url: str) -> None:
    pg = start_server(postgres_url)
    try:
        with httpx.Client() as client:
            first = client.post(f"{pg.url}/v1/interviews", json={"mode": "clinician"}).json()
            done = _answer_everything(client, pg.url, first)
            assert client.get(f"{pg.url}/v1/interviews/{first['id']}").json() == done
    finally:
        pg.stop()


def test_reports_of_an_interview_and_of_a_case(server: Server) -> None:
    with httpx.Client() as client:
        first = client.post(f"{server.url}/v1/interviews", json={}).json()
        done = _answer_everything(client, server.url, first)
        url = f"{server.url}/v1/interviews/{first['id']}"
        pdf = client.get(f"{url}/report.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        fhir = client.get(f"{url}/fhir")
        assert fhir.headers["content-type"] == "application/fhir+json"
        kinds = [e["resource"]["resourceType"] for e in fhir.json()["entry"]]
        assert "QuestionnaireResponse" in kinds and "RiskAssessment" in kinds
        risk = next(
            e["resource"]
            for e in fhir.json()["entry"]
            if e["resource"]["resourceType"] == "RiskAssessment"
        )
        top = done["assessment"]["conditions"][0]
        assert risk["prediction"][0]["probabilityDecimal"] == pytest.approx(
            top["probability"], abs=1e-6
        )
        case = json.loads((EXAMPLES / "footballer_twist_24m.json").read_text())
        r = client.post(f"{server.url}/v1/report", params={"format": "fhir"}, json=case)
        assert r.status_code == 200 and r.json()["resourceType"] == "Bundle"
        r = client.post(f"{server.url}/v1/report", json=case)
        assert r.content.startswith(b"%PDF")
        assert client.get(f"{server.url}/v1/interviews/nope/report.pdf").status_code == 404
