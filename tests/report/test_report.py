"""The clinician report (HTML, PDF) and the FHIR R4 export and import.

Expected values come from the assessment of the same case, from the knowledge base's own codes,
and for the import from the interview library given the same answers in the same order."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
from fhir.resources.R4B.bundle import Bundle

from kneesource.case import parse_case
from kneesource.engine import default_engine
from kneesource.interview import answer, start
from kneesource.report.document import report_html, report_pdf
from kneesource.report.fhir import (
    ICD10CM,
    PRIORITY,
    SNOMED,
    bundle,
    case_from_response,
    questionnaire,
    questionnaire_response,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*_*.json"))
CASES = [p for p in EXAMPLES if "answers" not in p.name]
ENGINE = default_engine()
WHEN = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def _assess(path: Path):  # type: ignore[no-untyped-def]
    return ENGINE.assess(parse_case(json.loads(path.read_text()), ENGINE.model))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kneesource", *args], capture_output=True, text=True, check=False
    )


def _state_of(path: Path):  # type: ignore[no-untyped-def]
    state = start(ENGINE)
    for question, value in json.loads(path.read_text()).items():
        state = answer(state, question, value)
    return state


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_the_pdf_says_what_the_assessment_says_on_at_most_two_pages(path: Path) -> None:
    a = _assess(path)
    assert a.triage is not None
    pdf = pypdf.PdfReader(io.BytesIO(report_pdf(report_html(ENGINE, a, name="Sam Example"))))
    assert 1 <= len(pdf.pages) <= 2
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages)
    assert "Sam Example" in text and f"Age {a.case.age}" in text
    assert "decision support, not a diagnosis" in text
    assert a.conditions[0].clinical_name in text
    for reason in a.triage.reasons:
        assert " ".join(reason.message.split())[:50] in text
    assert "Answers given" in text and "Where the pain comes from" in text
    assert "Examination tests not yet done" in text  # a case file is read as a clinician's


def test_no_name_unless_one_is_given_and_dont_know_is_shown() -> None:
    state = _state_of(ROOT / "examples" / "answers_runner_31f.json")
    state = answer(state, "knee_warmth", "dont_know")
    from kneesource.interview import assessment

    html = report_html(ENGINE, assessment(state), state, when=WHEN)
    assert "Sam" not in html
    assert "don&#39;t know" in html or "don't know" in html
    assert "Examination tests not yet done" not in html  # a patient's interview


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_the_fhir_bundle_validates_round_trips_and_carries_the_codes(path: Path) -> None:
    a = _assess(path)
    b = bundle(ENGINE, a, when=WHEN)
    text = b.model_dump_json()
    again = Bundle.model_validate_json(text)
    assert again.model_dump_json() == text
    resources = {}
    for entry in json.loads(text)["entry"]:
        resources.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    (patient,) = resources["Patient"]
    assert set(patient) <= {"resourceType", "gender"}  # age and sex only: no name, no birth date
    assert patient.get("gender") == a.case.sex
    ages = [o for o in resources["Observation"] if o["code"]["coding"][0]["code"] == "30525-0"]
    assert ages[0]["valueQuantity"]["value"] == a.case.age
    assert len(resources["Observation"]) == 1 + len(a.case.findings)
    (risk,) = resources["RiskAssessment"]
    assert len(risk["prediction"]) == len(a.conditions)
    for prediction, c in zip(risk["prediction"], a.conditions, strict=True):
        codes = ENGINE.kb.condition(c.id).codes
        coding = prediction["outcome"]["coding"]
        assert [x["code"] for x in coding if x["system"] == ICD10CM] == list(codes.icd10cm)
        assert [x["code"] for x in coding if x["system"] == SNOMED] == list(codes.snomed)
        assert prediction["probabilityDecimal"] == pytest.approx(c.probability, abs=1e-6)
    assert len(risk["basis"]) == len(resources["Observation"])
    (request,) = resources["ServiceRequest"]
    assert a.triage is not None
    assert request["priority"] == PRIORITY[a.triage.level]
    assert request["reasonReference"][0]["reference"].startswith("urn:uuid:")


def test_the_questionnaire_holds_every_question_with_its_options() -> None:
    from kneesource.interview.triage_link import question_bank

    q = json.loads(questionnaire(ENGINE).model_dump_json())
    bank = question_bank(ENGINE)
    assert [i["linkId"] for i in q["item"]] == [s.id for s in bank.questions]
    for item, spec in zip(q["item"], bank.questions, strict=True):
        if spec.type in ("single", "multi"):
            codes = [o["valueCoding"]["code"] for o in item["answerOption"]]
            expected = [o.id for o in spec.options]
            assert codes[: len(expected)] == expected
            assert item["repeats"] == (spec.type == "multi")
    assert _cli("questionnaire").returncode == 0


def test_a_filled_questionnaire_is_assessed_as_the_interview_would_be(tmp_path: Path) -> None:
    answers = ROOT / "examples" / "answers_runner_31f.json"
    state = _state_of(answers)
    response = questionnaire_response(ENGINE, state, WHEN)
    assert case_from_response(ENGINE, json.loads(response.model_dump_json())) == state
    path = tmp_path / "filled.json"
    path.write_text(response.model_dump_json())
    done = _cli("assess", str(path), "--json")
    assert done.returncode == 0, done.stderr
    # The answers as the interview library reads them (the same state, its case assessed).
    from kneesource.interview import assessment

    expected = json.loads(json.dumps(assessment(state).to_dict()))
    got = json.loads(done.stdout)
    assert got["conditions"] == expected["conditions"]
    assert got["triage"] == expected["triage"]


def test_a_broken_questionnaire_response_is_refused_naming_the_item(tmp_path: Path) -> None:
    state = _state_of(ROOT / "examples" / "answers_runner_31f.json")
    data = json.loads(questionnaire_response(ENGINE, state, WHEN).model_dump_json())
    data["item"][0]["answer"] = [{"valueInteger": 300}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    done = _cli("assess", str(path))
    assert done.returncode == 2 and "bad.json" in done.stderr and "age" in done.stderr
    data["item"][1]["linkId"] = "sexx"
    data["item"][0]["answer"] = [{"valueInteger": 30}]
    path.write_text(json.dumps(data))
    done = _cli("assess", str(path))
    assert done.returncode == 2 and "'sex'" in done.stderr


def test_the_report_command_writes_every_format_and_nothing_on_error(tmp_path: Path) -> None:
    case = ROOT / "examples" / "footballer_twist_24m.json"
    for fmt, name in (("pdf", "r.pdf"), ("html", "r.html"), ("fhir", "r.json")):
        done = _cli("report", str(case), "--format", fmt, "-o", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    Bundle.model_validate_json((tmp_path / "r.json").read_text())
    done = _cli("report", str(case), "--format", "pdf", "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2 and not (tmp_path / "x.json").exists()
    done = _cli(
        "report",
        "--interview",
        "nope",
        "--format",
        "pdf",
        "-o",
        str(tmp_path / "y.pdf"),
        "--db",
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert done.returncode == 2 and "nope" in done.stderr and not (tmp_path / "y.pdf").exists()
