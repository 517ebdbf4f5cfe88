"""The shipped vignettes validate against the knowledge base and cover what the evaluation needs;
broken vignette files are refused with every problem listed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kneesource.engine import default_engine
from kneesource.evaluation.vignettes import (
    VignetteError,
    coverage_problems,
    default_vignette_dir,
    load_vignettes,
)


def test_shipped_vignettes_validate_and_cover_the_knowledge_base() -> None:
    kb = default_engine().kb
    vset = load_vignettes(kb)
    assert coverage_problems(vset, kb) == []
    assert len(vset.split("tune")) + len(vset.split("held_out")) == len(vset)


def test_spine_and_hip_cases_include_the_required_presentations() -> None:
    vset = load_vignettes(default_engine().kb)
    roots = {v.root for v in vset.vignettes if v.root}
    assert {"L3", "L4", "L5", "S1"} <= roots
    diagnoses = {v.diagnosis for v in vset.vignettes}
    assert {"lumbar_spinal_stenosis", "spondylolisthesis", "hip_osteoarthritis"} <= diagnoses
    scfe = [v for v in vset.vignettes if v.diagnosis == "slipped_capital_femoral_epiphysis"]
    assert all(v.findings.get("overweight_child") and v.findings.get("limp") for v in scfe)


def _good() -> dict[str, object]:
    data = yaml.safe_load((default_vignette_dir() / "hip.yaml").read_text(encoding="utf-8"))
    case: dict[str, object] = data["vignettes"][0]
    return case


def _write(tmp_path: Path, cases: list[dict[str, object]]) -> Path:
    (tmp_path / "cases.yaml").write_text(yaml.safe_dump({"vignettes": cases}), encoding="utf-8")
    return tmp_path


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad_ids = {
        **_good(),
        "id": "bad_ids",
        "findings": {"limp": True, "limpp": True},
        "diagnosis": "hip_osteoarthritiss",
        "citation": {"ref": "dibra2071", "detail": "a typo"},
    }
    wrong_source = {**_good(), "id": "wrong_source", "pain_source": "knee", "root": "L3"}
    duplicate = {**_good(), "id": "wrong_source"}
    bad_shape = {**_good(), "id": "bad_shape", "split": "train", "extra": 1}
    with pytest.raises(VignetteError) as err:
        load_vignettes(
            default_engine().kb, _write(tmp_path, [bad_ids, wrong_source, duplicate, bad_shape])
        )
    text = "\n".join(err.value.problems)
    for expected in (
        "unknown finding 'limpp'",
        "did you mean 'limp'",
        "unknown condition 'hip_osteoarthritiss'",
        "unknown reference 'dibra2071'",
        "differs from the source of hip_osteoarthritis",
        "a nerve root is given but the pain source is not the spine",
        "'wrong_source' is used 2 times",
        "split",
        "extra",
    ):
        assert expected in text, expected


def test_an_emergency_must_be_a_red_flag_case(tmp_path: Path) -> None:
    case = {**_good(), "expected_triage": "emergency", "red_flag": False}
    with pytest.raises(VignetteError, match="red-flag"):
        load_vignettes(default_engine().kb, _write(tmp_path, [case]))


def test_coverage_rules_bite(tmp_path: Path) -> None:
    kb = default_engine().kb
    vset = load_vignettes(kb, _write(tmp_path, [_good()]))
    problems = "\n".join(coverage_problems(vset, kb))
    assert "no vignette has dvt as its diagnosis" in problems
    assert "at least 15 are needed" in problems
    assert "at least 12 are needed" in problems
    assert "at least a third" in problems
    assert "at least 60 are needed" in problems


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VignetteError, match="no vignette files"):
        load_vignettes(default_engine().kb, tmp_path)
