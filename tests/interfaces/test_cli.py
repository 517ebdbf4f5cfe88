"""The real ``kneesource`` command, run as a separate process: outputs, exit codes, bad input."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kneesource import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kneesource", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def write_case(tmp_path: Path, data: object, name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_assess_json_has_the_documented_fields() -> None:
    result = run("assess", EXAMPLES / "back_and_knee_68f.json", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"conditions", "pain_source", "nerve_roots", "knowledge_base_version"}
    probs = [c["probability"] for c in out["conditions"]]
    assert probs == sorted(probs, reverse=True)
    first = out["conditions"][0]
    assert set(first) >= {"id", "name", "probability", "source", "supporting", "conflicting"}
    assert set(out["pain_source"]) == {"knee", "spine", "hip", "vascular", "other"}
    assert set(out["nerve_roots"]) == {"L2", "L3", "L4", "L5", "S1"}


def test_human_output_is_a_table_with_the_notice() -> None:
    result = run("assess", EXAMPLES / "footballer_twist_24m.json")
    assert result.returncode == 0, result.stderr
    assert "not a diagnosis" in result.stdout
    assert "Most likely causes" in result.stdout


def test_jsonl_gives_one_result_per_line_in_order() -> None:
    result = run("assess", EXAMPLES / "three_cases.jsonl", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    ids = [json.loads(line)["case_id"] for line in lines]
    assert ids == ["back-and-knee-68f", "footballer-twist-24m", "runner-back-of-knee-35f"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"age": 40, "findings": {"knee_swellling": True}}, "did you mean 'knee_swelling'"),
        ({"age": 40, "findings": {"knee_swelling": "yes"}}, "must be true, false or null"),
        ({"age": 130, "findings": {}}, "between 0 and 120"),
        ({"age": "forty"}, "whole number"),
        ({"findings": {}}, "'age' is required"),
        ({"age": 40, "sex": "f"}, "'female' or 'male'"),
        ({"age": 40, "colour": "red"}, "unknown field"),
        ('{"age": 40,', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"age": ' + "9" * 5000 + "}", "thousands of digits long"),
    ],
)
def test_bad_case_is_a_clear_error(tmp_path: Path, data: object, message: str) -> None:
    result = run("assess", write_case(tmp_path, data))
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_bad_line_in_jsonl_names_the_line_and_prints_nothing(tmp_path: Path) -> None:
    lines = [json.dumps({"age": 30}), json.dumps({"age": -1}), json.dumps({"age": 50})]
    path = write_case(tmp_path, "\n".join(lines), "cases.jsonl")
    result = run("assess", path, "--json")
    assert result.returncode == 2
    assert "line 2" in result.stderr
    assert result.stdout == ""


def test_jsonl_streams_in_chunks_and_a_late_bad_line_says_what_was_written(
    tmp_path: Path,
) -> None:
    from kneesource.commands.core import CHUNK

    good = json.dumps({"age": 40, "findings": {"knee_swelling": True}})
    lines = [good] * (CHUNK + 3) + [json.dumps({"age": 200})] + [good] * 5
    path = write_case(tmp_path, "\n".join(lines), "many.jsonl")
    result = run("assess", path, "--json")
    assert result.returncode == 2
    assert f"line {CHUNK + 4}" in result.stderr
    # The first chunk was assessed and written before the bad line was reached; the error says so.
    assert len(result.stdout.splitlines()) == CHUNK
    assert f"the {CHUNK} case(s) before it were assessed and written" in " ".join(
        result.stderr.split()
    )
    assert "Traceback" not in result.stderr


def test_missing_file_and_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("assess", tmp_path / "nope.json").returncode == 2
    assert run().returncode == 2
    assert run("assess").returncode == 2
    assert run("model", "export", tmp_path / "x.bif").returncode == 2  # --format is required


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("asess", "case.json"), "unknown command 'asess'; did you mean 'assess'?"),
        (("kb", "chek"), "unknown command 'chek'; did you mean 'check'?"),
        (
            ("report", "c.json", "-o", "r", "--format", "pfd"),
            "invalid choice 'pfd'; did you mean 'pdf'?",
        ),
        (
            ("interview", "--mode", "doctor"),
            "invalid choice 'doctor' (choose from patient, clinician)",
        ),
    ],
)
def test_a_mistyped_command_or_choice_names_the_closest(
    args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_usage_lists_every_command_whichever_was_given() -> None:
    # Only the named command's module is loaded, yet the usage line names them all.
    result = run("kb", "check", "extra")
    assert result.returncode == 2
    assert "questionnaire" in result.stderr
    assert "unrecognized arguments: extra" in result.stderr


def test_model_export_writes_bif_and_refuses_bad_targets(tmp_path: Path) -> None:
    target = tmp_path / "net.bif"
    ok = run("model", "export", "--format", "bif", target, "--age", "52", "--sex", "female")
    assert ok.returncode == 0, ok.stderr
    assert target.read_text().startswith("network kneesource")
    missing_dir = tmp_path / "no" / "net.bif"
    bad = run("model", "export", "--format", "bif", missing_dir)
    assert bad.returncode == 2
    assert not missing_dir.parent.exists()
    bad_activity = run(
        "model", "export", "--format", "bif", tmp_path / "b.bif", "--activity", "golf"
    )
    assert bad_activity.returncode == 2
    assert not (tmp_path / "b.bif").exists()
    assert list(tmp_path.iterdir()) == [target]  # no temporary files left behind


def test_vocabulary_listings() -> None:
    findings = json.loads(run("findings", "--json").stdout)
    conditions = json.loads(run("conditions", "--json").stdout)
    assert {"patient", "clinician", "id", "kind"} <= set(findings[0])
    assert "lumbar_disc_herniation" in {c["id"] for c in conditions}
    assert run("findings").returncode == 0
    assert run("conditions").returncode == 0


def test_kb_check_passes_on_the_shipped_knowledge() -> None:
    result = run("kb", "check")
    assert result.returncode == 0, result.stderr
    assert "no problems" in result.stdout


def test_kb_check_fails_on_a_broken_directory(tmp_path: Path) -> None:
    result = run("kb", "check", "--dir", tmp_path)
    assert result.returncode == 1
    assert "problem" in result.stderr


def test_files_people_actually_have_are_read_or_refused_clearly(tmp_path: Path) -> None:
    case = json.loads((EXAMPLES / "back_and_knee_68f.json").read_text(encoding="utf-8"))
    # Saved by Notepad: UTF-8 with a byte-order mark.
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(case).encode("utf-8"))
    assert run("assess", bom, "--json").returncode == 0
    # A binary file, or another encoding: exit 2, a message, no traceback.
    binary = tmp_path / "photo.json"
    binary.write_bytes(bytes(range(256)))
    done = run("assess", binary)
    assert done.returncode == 2 and "not UTF-8" in done.stderr
    assert "Traceback" not in done.stderr
    # Several cases in a .json: a hint to use .jsonl.
    several = write_case(tmp_path, json.dumps(case) + "\n" + json.dumps(case))
    done = run("assess", several)
    assert done.returncode == 2 and ".jsonl" in done.stderr
    # A key given twice is an error naming the key, not a silent choice.
    twice = write_case(tmp_path, '{"age": 40, "age": 50, "findings": {}}', "twice.json")
    done = run("assess", twice)
    assert done.returncode == 2 and "'age' is given twice" in done.stderr


def test_version_and_answers_files_read_the_same_way(tmp_path: Path) -> None:
    done = run("--version")
    assert done.returncode == 0 and done.stdout.startswith("kneesource ")
    answers = tmp_path / "answers.json"
    answers.write_bytes(b"\xef\xbb\xbf" + b'{"age": 30, "age": 31}')
    done = run("interview", "--answers", answers)
    assert done.returncode == 2 and "'age' is given twice" in done.stderr


def test_vocabulary_lists_print_whole_ids_at_80_columns() -> None:
    # The ids are what a case file needs (issue seen: 91 of 164 finding ids cut with "...").
    env = {**os.environ, "COLUMNS": "80"}
    for command in ("findings", "conditions"):
        done = subprocess.run(
            [sys.executable, "-m", "kneesource", command],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert done.returncode == 0
        assert "…" not in done.stdout
    assert "hip_internal_rotation_reduced_or_painful" in run("findings").stdout


def test_questions_lists_every_id_an_answers_file_can_use() -> None:
    done = run("questions", "--json")
    assert done.returncode == 0
    rows = json.loads(done.stdout)
    ids = {r["id"] for r in rows}
    assert {"age", "where", "screen_self_check", "how_long"} <= ids
    where = next(r for r in rows if r["id"] == "where")
    assert "front" in where["options"]
    # The shipped answers file uses only listed question and option ids.
    answers = json.loads((EXAMPLES / "answers_runner_31f.json").read_text(encoding="utf-8"))
    options = {r["id"]: set(r["options"]) for r in rows}
    for qid, value in answers.items():
        assert qid in ids, qid
        if isinstance(value, list):
            assert set(value) <= options[qid], qid
    done = run("interview", "--answers", EXAMPLES / "answers_runner_31f.json", "--json")
    assert done.returncode == 0, done.stderr


def test_scripts_start_works_from_any_folder_and_with_interview_options(tmp_path: Path) -> None:
    # Paths are read from the caller's folder, and interview options work without the word
    # "interview" (as a person types them after reading the README).
    start = ROOT / "scripts" / "start"
    case = tmp_path / "mycase.json"
    case.write_text((EXAMPLES / "back_and_knee_68f.json").read_text(encoding="utf-8"))
    done = subprocess.run(
        [str(start), "assess", "mycase.json", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["case_id"] == "back-and-knee-68f"
    for options in (["--resume"], ["--mode", "clinician"]):
        done = subprocess.run(
            [str(start), *options],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "KNEESOURCE_DB": str(tmp_path / "s.sqlite3")},
            check=False,
        )
        assert done.returncode == 2 and "no terminal" in done.stderr, done.stderr


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_each_command_is_registered_by_the_module_it_is_listed_under() -> None:
    # ``main`` imports only the module of the command it is given, from cli.COMMANDS.
    assert _commands(cli.build_parser()) == set(cli.COMMANDS)
    for name, module in cli.COMMANDS.items():
        alone = _commands(cli.build_parser(name))
        assert name in alone
        assert alone == {n for n, m in cli.COMMANDS.items() if m == module}
