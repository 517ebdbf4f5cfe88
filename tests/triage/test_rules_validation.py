"""``redflags.yaml`` is checked against the knowledge base and every problem is reported at once:
each rule of the check bites on a broken copy of the shipped files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kneesource.errors import KnowledgeBaseError
from kneesource.kb.loader import default_knowledge_dir, load_knowledge_base
from kneesource.triage import load_rules
from kneesource.triage.rules import RULES_FILE


def _broken(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> list[str]:
    target = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), target)
    path = target / RULES_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    kb = load_knowledge_base(target)
    with pytest.raises(KnowledgeBaseError) as info:
        load_rules(kb, target)
    return info.value.problems


def _rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["id"] == rule_id)


def _sign(data: dict[str, Any], sign_id: str) -> dict[str, Any]:
    return next(s for s in data["signs"] if s["id"] == sign_id)


def _tip(data: dict[str, Any], tip_id: str) -> dict[str, Any]:
    return next(t for t in data["advice"]["tips"] if t["id"] == tip_id)


def _net(data: dict[str, Any], net_id: str) -> dict[str, Any]:
    return next(n for n in data["advice"]["safety_nets"] if n["id"] == net_id)


def test_shipped_rules_are_valid() -> None:
    kb = load_knowledge_base()
    rules = load_rules(kb)
    assert rules.rules and rules.thresholds
    assert rules.warning_findings <= {f.id for f in kb.findings}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: _rule(d, "ces_saddle_numbness").update(when="saddle_numbnes"),
            "rule ces_saddle_numbness: unknown finding 'saddle_numbnes'",
        ),
        (
            lambda d: _rule(d, "ottawa_age").update(condition="fractures"),
            "rule ottawa_age: unknown condition 'fractures'",
        ),
        (
            lambda d: d.update(thresholds=[t for t in d["thresholds"] if t["condition"] != "dvt"]),
            "serious condition dvt has no probability threshold",
        ),
        (
            lambda d: d["signs"][0].update(when={"sign": d["signs"][0]["id"]}),
            "refers to itself through other signs",
        ),
        (
            lambda d: _rule(d, "locked_knee").update(
                source={"ref": "no_such_paper", "detail": "x" * 5, "tag": "V"}
            ),
            "rule locked_knee: cites unknown reference 'no_such_paper'",
        ),
        (
            lambda d: d["rules"].append(dict(_rule(d, "locked_knee"))),
            "rule id 'locked_knee' is defined more than once",
        ),
        (
            lambda d: _rule(d, "locked_knee").update(when={"age": {"min": 18}}),
            "rule locked_knee: names no finding",
        ),
        (
            lambda d: _rule(d, "locked_knee").update(level="routine"),
            "rules.",
        ),
        (
            lambda d: _rule(d, "locked_knee").update(
                when={"at_least": 3, "of": ["locking", "giving_way"]}
            ),
            "at_least 3 of only 2 items never holds",
        ),
        (lambda d: d["advice"]["levels"].pop("soon"), "advice is missing for level(s) ['soon']"),
        (
            lambda d: _rule(d, "locked_knee").update(action="x_ray_now"),
            "rule locked_knee: unknown action 'x_ray_now'",
        ),
        (
            lambda d: d["thresholds"][0].update(action="x_ray_now"),
            "unknown action 'x_ray_now'",
        ),
        (
            lambda d: d["uncertainties"][0].update(benign="cyst"),
            "unknown condition 'cyst'",
        ),
        (
            lambda d: _tip(d, "cramp_stretch").update(avoid_if_suspected=["dvtt"]),
            "advice cramp_stretch: unknown condition 'dvtt'",
        ),
        (
            lambda d: _tip(d, "cramp_stretch").update(avoid_when="pregnant"),
            "advice cramp_stretch: unknown finding 'pregnant'",
        ),
        (
            lambda d: _net(d, "clot_while_waiting").update(reasons_for=["clot"]),
            "advice clot_while_waiting: unknown condition 'clot'",
        ),
        (
            lambda d: d["advice"]["medicines"].reverse(),
            "must have no 'when' and no 'age'",
        ),
        (
            lambda d: d["advice"]["medicines"][0].update(when="pregnancyy"),
            "medicine note medicines_pregnancy: unknown finding 'pregnancyy'",
        ),
        (
            lambda d: d["advice"].update(
                medicines=[
                    m for m in d["advice"]["medicines"] if m["id"] != "medicines_caution_condition"
                ]
            ),
            "finding nsaid_caution_condition: triage_only, yet no rule, threshold or advice",
        ),
        (
            # A clinician's "fluid in the knee" must count wherever "my knee is swollen" does.
            lambda d: _rule(d, "acute_swollen_knee_no_injury").update(
                when={"all_of": ["onset_days_no_injury", "knee_swelling"]}
            ),
            "rule acute_swollen_knee_no_injury: holds with knee_swelling, onset_days_no_injury "
            "but not with effusion_on_exam in place of knee_swelling",
        ),
        (
            # Counting a swollen knee twice (as said and as found) makes two signs of one.
            lambda d: _sign(d, "inflamed_knee").update(
                when={"at_least": 2, "of": ["knee_swelling", "effusion_on_exam", "knee_redness"]}
            ),
            "sign inflamed_knee: holds with effusion_on_exam, knee_swelling but not with "
            "effusion_on_exam in place of knee_swelling",
        ),
        (
            lambda d: _tip(d, "cramp_stretch").update(avoid_when="calf_swelling"),
            "advice cramp_stretch: holds with calf_swelling but not with calf_swelling_over_3cm",
        ),
    ],
)
def test_each_check_bites(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    problems = _broken(tmp_path, change)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    def two_faults(d: dict[str, Any]) -> None:
        _rule(d, "ces_saddle_numbness").update(when="saddle_numbnes")
        _rule(d, "ottawa_age").update(condition="fractures")

    problems = _broken(tmp_path, two_faults)
    assert len(problems) == 2, problems


def test_a_missing_rules_file_is_reported(tmp_path: Path) -> None:
    kb = load_knowledge_base()
    with pytest.raises(KnowledgeBaseError, match=r"redflags\.yaml: cannot be read"):
        load_rules(kb, tmp_path)
