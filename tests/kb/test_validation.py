"""Each validation rule bites: a broken copy of a tiny valid knowledge base fails with a message
naming the problem, and several problems are all reported at once."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kneesource.errors import KnowledgeBaseError
from kneesource.kb.loader import load_knowledge_base

FIXTURE = Path(__file__).parent / "fixtures" / "minimal"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE, target)
    return target


def _edit(directory: Path, name: str, change: Callable[[dict], None]) -> None:
    path = directory / name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(directory)
    return info.value.problems


def test_fixture_is_valid() -> None:
    kb = load_knowledge_base(FIXTURE)
    assert [c.id for c in kb.conditions] == ["cond_knee", "cond_spine"]
    assert kb.version.startswith("0.0.1+")


BREAKS: list[tuple[str, str, Callable[[dict], None], str]] = [
    (
        "prior out of range",
        "conditions.yaml",
        lambda d: d["conditions"][0]["prior"].update(base=1.5),
        "conditions[0] (cond_knee).prior.base",
    ),
    (
        "unknown source group",
        "conditions.yaml",
        lambda d: d["conditions"][0].update(source_group="ankle"),
        "source_group",
    ),
    (
        "unknown reference",
        "conditions.yaml",
        lambda d: d["conditions"][0]["prior"]["source"].update(ref="nowhere"),
        "cites unknown reference 'nowhere'",
    ),
    (
        "a citation whose number is the team's",
        "conditions.yaml",
        lambda d: d["conditions"][0]["prior"]["source"].update(detail="0.2 (our estimate)"),
        "says its number is not the source's ('our estimate')",
    ),
    (
        "assumption without reasoning",
        "conditions.yaml",
        lambda d: d["conditions"][1]["prior"].update(source={"assumption": "guess"}),
        "assumption",
    ),
    (
        "duplicate condition id",
        "conditions.yaml",
        lambda d: d["conditions"][1].update(id="cond_knee"),
        "condition id 'cond_knee' is defined more than once",
    ),
    (
        "bad ICD-10-CM format",
        "conditions.yaml",
        lambda d: d["conditions"][0]["codes"].update(icd10cm=["knee"]),
        "icd10cm",
    ),
    (
        "link to unknown finding",
        "links.yaml",
        lambda d: d["links"][0].update(child="no_such_finding"),
        "unknown child 'no_such_finding'",
    ),
    (
        "two strength forms at once",
        "links.yaml",
        lambda d: d["links"][0].update(probability=0.5),
        "exactly one strength form",
    ),
    (
        "weight below the leak",
        "links.yaml",
        lambda d: d["links"][0].update(sensitivity=0.05, specificity=0.5),
        "outside (0, 1)",
    ),
    (
        "condition->root link without probability",
        "links.yaml",
        lambda d: d["links"][1].update(probability=None, lr_negative=0.5),
        "a condition->root link takes a probability",
    ),
    (
        "activity modifier on a non-context finding",
        "conditions.yaml",
        lambda d: d["conditions"][0]["prior"]["modifiers"][1]["odds"].update(knee_swelling=2.0),
        "'knee_swelling' is not a context finding",
    ),
    (
        "a requirement that is not a context finding",
        "conditions.yaml",
        lambda d: d["conditions"][0]["prior"].update(requires=["knee_swelling"]),
        "requires 'knee_swelling', which is not a context finding",
    ),
    (
        "exam finding without instructions",
        "findings.yaml",
        lambda d: d["findings"][3].pop("how_to"),
        "how_to",
    ),
    (
        "finding with no parent",
        "links.yaml",
        lambda d: d.update(links=d["links"][1:]),
        "finding knee_swelling: no condition or root links to it",
    ),
    (
        "triage-only finding with a link",
        "findings.yaml",
        lambda d: d["findings"][1].update(triage_only=True),
        "finding knee_swelling: triage_only, so no condition or root links to it",
    ),
    (
        "a finding implying an unknown one",
        "findings.yaml",
        lambda d: d["findings"][1].update(implies=["knee_swollen"]),
        "finding knee_swelling: implies unknown finding 'knee_swollen'",
    ),
    (
        "a finding implying itself",
        "findings.yaml",
        lambda d: d["findings"][1].update(implies=["knee_swelling"]),
        "finding knee_swelling: implies itself",
    ),
    (
        "findings implying each other",
        "findings.yaml",
        lambda d: (
            d["findings"][1].update(implies=["numb_shin"]),
            d["findings"][2].update(implies=["knee_swelling"]),
        ),
        "finding numb_shin: implies itself through other findings",
    ),
    (
        "self_check on a symptom",
        "findings.yaml",
        lambda d: d["findings"][1].update(self_check=True),
        "only an exam finding is marked self_check",
    ),
    (
        "unknown field",
        "findings.yaml",
        lambda d: d["findings"][1].update(colour="red"),
        "colour",
    ),
]


@pytest.mark.parametrize(("name", "file", "change", "expected"), BREAKS, ids=[b[0] for b in BREAKS])
def test_rule_bites(
    tmp_path: Path, name: str, file: str, change: Callable[[dict], None], expected: str
) -> None:
    directory = _copy(tmp_path)
    _edit(directory, file, change)
    problems = _problems(directory)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _edit(directory, "links.yaml", lambda d: d["links"][0].update(child="ghost"))
    _edit(
        directory,
        "conditions.yaml",
        lambda d: d["conditions"][1]["prior"]["source"].update(assumption="x" * 5),
    )
    problems = _problems(directory)
    assert any("ghost" in p for p in problems)
    assert any("conditions[1] (cond_spine)" in p for p in problems)


def test_malformed_yaml_is_named(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    (directory / "links.yaml").write_text("links: [unclosed\n")
    assert any(p.startswith("links.yaml: not valid YAML") for p in _problems(directory))


def test_split_files_are_merged(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    findings = yaml.safe_load((directory / "findings.yaml").read_text())["findings"]
    (directory / "findings.yaml").write_text(yaml.safe_dump({"findings": findings[:2]}))
    (directory / "findings_more.yaml").write_text(yaml.safe_dump({"findings": findings[2:]}))
    kb = load_knowledge_base(directory)
    assert [f.id for f in kb.findings] == [f["id"] for f in findings]
