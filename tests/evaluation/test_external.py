"""The external set of published case reports: its mix, its validation, its metrics (values
worked out by hand) and ``kneesource evaluate --set external`` end to end."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml

from kneesource.case import Case
from kneesource.cli import main
from kneesource.engine import default_engine
from kneesource.evaluation.external import coverage, default_external_dir, load_external
from kneesource.evaluation.external_run import summarise_external
from kneesource.evaluation.runner import Outcome, Truth
from kneesource.evaluation.vignettes import VignetteError

ENGINE = default_engine()
CASES = load_external(ENGINE.kb)


def test_the_set_has_the_mix_the_validation_needs() -> None:
    groups = [c.source.diagnosis_group for c in CASES]
    assert len(CASES) >= 120
    assert groups.count("spine") + groups.count("hip") >= 35
    children_hip = [
        c for c in CASES if c.source.diagnosis_group == "hip" and (c.source.age or 99) <= 17
    ]
    assert len(children_hip) >= 8
    assert groups.count("vascular") >= 15
    assert groups.count("knee") >= 40
    assert sum(c.source.red_flag for c in CASES) >= 25
    held = [c for c in CASES if c.split == "held_out"]
    assert len(held) == round(len(CASES) / 3)
    cov = coverage(CASES)
    assert cov.facts == sum(len(c.source.facts) for c in CASES)
    # Counted by hand from the mapping: facts said with findings, by age and sex, or by the
    # complaint are the translated ones; every other fact has a category.
    said = sum(bool(f.findings) or f.person or f.complaint for c in CASES for f in c.mapping.facts)
    assert cov.translated == said == cov.facts - sum(cov.by_category.values())
    assert cov.complaint == sum(f.complaint for c in CASES for f in c.mapping.facts)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "external"
    shutil.copytree(default_external_dir(), folder)
    return folder


def _edit_mapping(folder: Path, edit: object) -> None:
    path = folder / "mapping" / "spine.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert callable(edit)
    edit(data["mappings"][0])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["facts"][0].update(fact="a fact the source never stated"), "in order"),
        (lambda m: m["facts"].append({"fact": "x", "untranslatable": "other"}), "in order"),
        (lambda m: m.update(diagnosis="lumbar_disk_herniation"), "unknown condition"),
        (
            lambda m: m["facts"][0].update(findings={"back_pian": True}, untranslatable=None),
            "unknown finding 'back_pian'",
        ),
        (lambda m: m["facts"][0].update(findings=None, untranslatable=None), "exactly one"),
        (lambda m: m["facts"][0].update(person=True), "exactly one"),
        (lambda m: m["facts"][0].update(complaint=True), "exactly one"),
    ],
)
def test_a_broken_mapping_is_refused_naming_the_case(
    tmp_path: Path, edit: object, message: str
) -> None:
    folder = _copy(tmp_path)
    _edit_mapping(folder, edit)
    with pytest.raises(VignetteError, match=message):
        load_external(ENGINE.kb, folder)


def test_a_case_mapped_twice_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "mapping" / "spine.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["mappings"].append(data["mappings"][0])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(VignetteError, match="ext-spine-001 is mapped twice"):
        load_external(ENGINE.kb, folder)


def test_a_case_without_a_mapping_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "mapping" / "vascular.yaml").unlink()
    with pytest.raises(VignetteError, match="ext-vascular-001: no mapping"):
        load_external(ENGINE.kb, folder)


def _outcome(expected: str, given: str, rank_first: bool, source_ok: bool) -> Outcome:
    truth = Truth(Case(40), "tune", ("gout",), ("knee",), (), expected, False)
    ranking = ("gout", "fracture") if rank_first else ("fracture", "dvt", "bone_tumour", "gout")
    return Outcome(
        truth=truth,
        ranking=ranking,
        probabilities=tuple(0.5 for _ in ranking),
        source_predicted="knee" if source_ok else "spine",
        root_predicted="L3",
        root_probability=0.1,
        triage_predicted=given,
    )


def test_external_metrics_by_hand() -> None:
    outcomes = [
        _outcome("emergency", "soon", True, True),  # under by two; an emergency missed
        _outcome("soon", "urgent", False, True),  # over, to urgent
        _outcome("self_care", "self_care", True, False),
        _outcome("urgent", "soon", False, False),  # under by one
    ]
    s = summarise_external(outcomes)
    assert (s.n, s.diagnosed) == (4, 4)
    assert s.top1 == 0.5 and s.top3 == 0.5  # ranks 1, 4, 1, 4
    assert s.source == 0.5 and s.by_source == {"knee": (2, 4)}
    assert s.under_by_two == 1
    assert s.triage.under_triage == 0.5 and s.triage.over_triage == 0.25
    assert s.over_to_urgent == 0.5  # of the two who needed less than urgent, one got urgent
    assert s.triage.emergencies == 1 and s.triage.emergency_sensitivity == 0.0
    assert math.isnan(s.interview_top3)


def test_evaluate_external_writes_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    code = main(
        [
            "evaluate",
            "--set",
            "external",
            "--split",
            "held-out",
            "--no-interview",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    report = (out / "external-report.md").read_text(encoding="utf-8")
    assert "held-out" in report and "upper bound" in report
    assert "pain source" in report and "cannot say: time_course" in report
    assert (out / "external-reliability-held_out.png").stat().st_size > 0
    assert "published cases" in capsys.readouterr().out
