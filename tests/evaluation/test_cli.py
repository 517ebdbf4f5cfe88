"""`kneesource evaluate` and `kneesource simulate` end to end on a small subset (files under
tmp_path only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kneesource.cli import main
from kneesource.evaluation.vignettes import default_vignette_dir


def _subset(tmp_path: Path) -> Path:
    folder = tmp_path / "vignettes"
    folder.mkdir()
    cases = []
    for name in ("spine.yaml", "vascular_other.yaml"):
        data = yaml.safe_load((default_vignette_dir() / name).read_text(encoding="utf-8"))
        cases += data["vignettes"][:3]
    (folder / "subset.yaml").write_text(yaml.safe_dump({"vignettes": cases}), encoding="utf-8")
    return folder


def test_evaluate_writes_the_report_and_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    code = main(
        ["evaluate", "--vignettes", str(_subset(tmp_path)), "--out", str(out), "--simulated", "20"]
    )
    assert code == 0
    for name in ("report.md", "reliability.png", "confusion.png", "probabilities.png"):
        assert (out / name).stat().st_size > 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "top-1 accuracy" in report
    assert "Semigran" in report
    assert "spine_l3_disc_weak_quads" in report
    assert "Synthetic patients" in report
    assert (out / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert "emergency sensitivity" in printed


def test_evaluate_held_out_split_only(tmp_path: Path) -> None:
    out = tmp_path / "held"
    assert (
        main(
            [
                "evaluate",
                "--vignettes",
                str(_subset(tmp_path)),
                "--split",
                "held-out",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "spine_l3_disc_after_lifting" in report
    assert "spine_l3_disc_weak_quads" not in report  # a tune case


def test_simulate_writes_cases_that_assess_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sim.jsonl"
    args = ["simulate", "-n", "3", "--seed", "3", "--noise-flip", "0.1", "--out", str(path)]
    args += ["--observe", "exam", "--max-present", "2"]  # keeps `assess` below fast
    assert main([*args, "--score"]) == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["note"].startswith("present: ")
    assert "top-1" in capsys.readouterr().out
    assert main(["assess", str(path), "--json"]) == 0


def test_bad_options_exit_with_usage_errors(tmp_path: Path) -> None:
    assert main(["simulate", "-n", "2", "--noise-flip", "2"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--split", "train"])
    assert exc.value.code == 2
    assert main(["evaluate", "--vignettes", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
