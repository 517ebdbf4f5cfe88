"""``kneesource interview --answers`` and ``--patient`` (non-interactive), through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KNEESOURCE = str(Path(sys.executable).parent / "kneesource")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KNEESOURCE, "interview", *args], capture_output=True, text=True, timeout=120
    )


def test_answers_file(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(
        json.dumps(
            {
                "age": 30,
                "sex": "male",
                "where": "front",
                "sports": ["jumping"],
                "screen_nerves": [],
                "screen_knee": [],
                "screen_leg": [],
                "onset": "gradual",
                "how_long": [],
                "screen_self_check": [],
                "pain_after_jumping": "yes",
            }
        ),
        encoding="utf-8",
    )
    done = _run("--answers", str(path), "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    ids = [q["id"] for q in body["questions"]]
    assert ids[:9] == [
        "age",
        "sex",
        "where",
        "screen_nerves",
        "screen_knee",
        "screen_leg",
        "onset",
        "how_long",
        "screen_self_check",
    ]
    # Every answer given is either asked or reported as unused.
    assert set(body["unused_answers"]) == {"sports", "pain_after_jumping"} - set(ids)
    assert body["stop_reason"] is not None
    assert body["assessment"]["triage"]["level"] in ("self_care", "soon")


def test_answers_file_errors_name_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"age": 30, "knee_sweling": "yes"}), encoding="utf-8")
    done = _run("--answers", str(path))
    assert done.returncode == 2
    assert "knee_swelling" in done.stderr
    path.write_text(json.dumps({"age": 30, "where": "sideways"}), encoding="utf-8")
    done = _run("--answers", str(path))
    assert done.returncode == 2
    assert "'front'" in done.stderr and "sideways" in done.stderr


def test_simulated_patient(tmp_path: Path) -> None:
    done = _run("--patient", str(EXAMPLES / "footballer_twist_24m.json"), "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    answers = {q["id"]: q["answer"] for q in body["questions"]}
    assert answers["age"] == 24
    # The case says the knee was twisted and nothing of the other ways it can start.
    assert answers["onset"]["ticked"] == ["twist"]
    assert "fall" in answers["onset"]["not_sure"]
    assert body["assessment"]["conditions"][0]["id"] == "acl_injury"
    text = _run("--patient", str(EXAMPLES / "footballer_twist_24m.json"))
    assert "questions asked" in text.stdout and "Most likely causes" in text.stdout


def test_an_answer_the_interview_never_asks_is_reported_not_dropped(tmp_path: Path) -> None:
    # "Are you pregnant?" is never asked of a man, so his answer to it cannot be used: the
    # report names it instead of dropping it silently.
    path = tmp_path / "answers.json"
    path.write_text(
        json.dumps({"age": 40, "sex": "male", "where": "front", "pregnancy": "no"}),
        encoding="utf-8",
    )
    as_json = _run("--answers", str(path), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert "pregnancy" in json.loads(as_json.stdout)["unused_answers"]
    shown = _run("--answers", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "Not asked, so not used: pregnancy" in " ".join(shown.stdout.split())
