"""The questions file validates against the knowledge base, and every check bites."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kneesource.engine import Engine
from kneesource.errors import KnowledgeBaseError
from kneesource.interview.questions import default_questions_path, load_questions
from kneesource.interview.triage_link import question_bank, red_flag_findings


def test_shipped_questions_validate(engine: Engine) -> None:
    bank = question_bank(engine)
    assert [q.id for q in bank.questions[:3]] == ["age", "sex", "where"]
    sports = bank.get("sports")
    assert sports.phase == "adaptive" and sports.sets_context()
    # Exam tests only a clinician can do are clinician-only; those a person can check on
    # themselves (a knee out of shape, a sore calf) are asked in patient mode too.
    exam = {f.id for f in engine.kb.findings if f.kind == "exam" and not f.self_check}
    examined = {f.id for f in engine.kb.findings if f.kind == "exam"}
    for q in bank.questions:
        if any(f in exam for f in q.findings()):
            assert q.clinician_only, q.id
        if q.clinician_only:
            assert any(f in examined for f in q.findings()), q.id
    self_check = {f.id for f in engine.kb.findings if f.self_check}
    assert self_check <= set(bank.get("screen_self_check").findings())


def test_red_flags_come_from_the_rules(engine: Engine) -> None:
    flags = red_flag_findings(engine)
    # Each of these alone fires an emergency or urgent rule of redflags.yaml.
    assert {"saddle_numbness", "bladder_or_bowel_change", "cold_pale_leg"} <= flags
    assert "knee_crepitus" not in flags


def _broken(tmp_path: Path, edit: object) -> Path:
    data = yaml.safe_load(default_questions_path().read_text(encoding="utf-8"))
    assert callable(edit)
    edit(data)
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _problems(engine: Engine, tmp_path: Path, edit: object) -> list[str]:
    """Every problem loading the edited questions file reports (it must fail)."""
    with pytest.raises(KnowledgeBaseError) as info:
        load_questions(engine.kb, _broken(tmp_path, edit), red_flag_findings(engine))
    return info.value.problems


def test_every_problem_is_reported_at_once(engine: Engine, tmp_path: Path) -> None:
    def edit(data: dict) -> None:  # type: ignore[type-arg]
        qs = data["questions"]
        qs.append(dict(qs[-1]))  # duplicate id
        qs.append({"id": "no_such", "phase": "adaptive", "type": "yes_no", "text": "Is it so?"})
        screen = next(q for q in qs if q["id"] == "screen_nerves")
        screen["options"] = [o for o in screen["options"] if o["id"] != "saddle"]
        knee = next(q for q in qs if q["id"] == "no_pain_when_seated")
        knee["finding"] = "no_pain_when_sated"

    problems = _problems(engine, tmp_path, edit)
    text = "\n".join(problems)
    assert "defined more than once" in text
    assert "unknown finding 'no_such'" in text
    assert "unknown finding 'no_pain_when_sated'" in text
    assert "red-flag finding 'saddle_numbness' is not covered" in text
    assert "finding 'no_pain_when_seated' is asked by no question" in text
    assert len(problems) >= 5


def test_exam_question_must_be_clinician_only(engine: Engine, tmp_path: Path) -> None:
    def edit(data: dict) -> None:  # type: ignore[type-arg]
        q = next(q for q in data["questions"] if q["id"] == "lachman_positive")
        q["clinician_only"] = False

    with pytest.raises(KnowledgeBaseError, match="must be clinician_only"):
        load_questions(engine.kb, _broken(tmp_path, edit))


def test_context_findings_only_in_the_opening(engine: Engine, tmp_path: Path) -> None:
    def edit(data: dict) -> None:  # type: ignore[type-arg]
        data["questions"].append(
            {"id": "activity_running", "phase": "adaptive", "type": "yes_no", "text": "Do you run?"}
        )

    with pytest.raises(
        KnowledgeBaseError,
        match="sets priors: ask it in the opening phase, or in an adaptive checklist",
    ):
        load_questions(engine.kb, _broken(tmp_path, edit))


def test_a_sports_checklist_rates_every_age_band(engine: Engine, tmp_path: Path) -> None:
    def edit(data: dict) -> None:  # type: ignore[type-arg]
        qs = data["questions"]
        sports = next(q for q in qs if q["id"] == "sports")
        del sports["options"][0]["prevalence"]["elderly"]
        del sports["prevalence_source"]
        kind = next(q for q in qs if q["id"] == "pain_kind")
        kind["options"][0]["prevalence"] = sports["options"][1]["prevalence"]

    text = "\n".join(_problems(engine, tmp_path, edit))
    assert "option running: needs a prevalence for every age band; missing ['elderly']" in text
    assert "needs a 'prevalence_source'" in text
    assert "question pain_kind: only an adaptive checklist of context findings takes" in text
