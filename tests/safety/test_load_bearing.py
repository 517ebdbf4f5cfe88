"""Every warning-sign rule and probability threshold is load-bearing: it has a presentation
(tests/safety/load_bearing.yaml) on which its reason is given at the level set from its cited
source, and removing it, or lowering its level, makes that check fail. A sweep then adds every
warning sign, one at a time, to every such presentation and to every probe case: the level
never falls (the monotonicity the triage promises, checked on thousands of pairs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.triage import LEVELS, RuleSet, level_rank, triage
from tests.safety.probes import PROBES, probe_case

ENGINE = default_engine()
ENTRIES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("load_bearing.yaml")).read_text(encoding="utf-8")
)["presentations"]


def _case(entry: dict[str, Any]) -> Case:
    findings = dict.fromkeys(entry["findings"], True) | dict.fromkeys(
        entry.get("absent", []), False
    )
    return Case(entry["age"], entry.get("sex"), findings)


def reaches(rules: RuleSet, entry: dict[str, Any]) -> bool:
    """Whether the entry's reason is given at (at least) its level under ``rules``."""
    case = _case(entry)
    result = triage(rules, ENGINE.kb, case, ENGINE.assess(case), ENGINE.model)
    wanted = entry["id"].split("/")[0]
    return any(
        r.rule == wanted and level_rank(r.level) >= level_rank(entry["level"])
        for r in result.reasons
    )


def _mutated(rules: RuleSet, ident: str, downgrade: bool) -> RuleSet:
    """The rule set with one rule or threshold removed, or its level lowered by one."""

    def lower(level: str) -> Any:
        return LEVELS[max(0, level_rank(level) - 1)]  # type: ignore[arg-type]

    if ident.startswith("posterior:"):
        condition, level = ident.removeprefix("posterior:").split("/")
        kept = []
        for t in rules.thresholds:
            if (t.condition, t.level) == (condition, level):
                if downgrade:
                    kept.append(t.model_copy(update={"level": lower(t.level)}))
                continue
            kept.append(t)
        return dataclasses.replace(rules, thresholds=tuple(kept))
    changed = []
    for r in rules.rules:
        if r.id == ident:
            if downgrade:
                changed.append(r.model_copy(update={"level": lower(r.level)}))
            continue
        changed.append(r)
    return dataclasses.replace(rules, rules=tuple(changed))


def test_every_rule_and_threshold_has_a_presentation() -> None:
    wanted = {r.id for r in ENGINE.rules.rules}
    wanted |= {f"posterior:{t.condition}/{t.level}" for t in ENGINE.rules.thresholds}
    assert [e["id"] for e in ENTRIES if e["id"] not in wanted] == []
    assert sorted(wanted - {e["id"] for e in ENTRIES}) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_reason_is_given_at_its_level_and_missed_without_it(entry: dict[str, Any]) -> None:
    assert reaches(ENGINE.rules, entry)
    assert not reaches(_mutated(ENGINE.rules, entry["id"], downgrade=False), entry)
    if entry["level"] != "self_care":
        assert not reaches(_mutated(ENGINE.rules, entry["id"], downgrade=True), entry)


def _bases() -> list[Case]:
    return [_case(e) for e in ENTRIES] + [probe_case(ENGINE, p) for p in PROBES]


def test_adding_any_warning_sign_never_lowers_the_level() -> None:
    pairs = 0
    falls = []
    for base in _bases():
        before = ENGINE.assess(base).triage
        assert before is not None
        extra = sorted(ENGINE.rules.warning_findings_at(base.age) - set(base.findings))
        cases = [Case(base.age, base.sex, {**base.findings, f: True}) for f in extra]
        for f, after in zip(extra, ENGINE.assess_many(cases), strict=True):
            assert after.triage is not None
            pairs += 1
            if level_rank(after.triage.level) < level_rank(before.level):
                falls.append((dict(base.findings), base.age, f, before.level, after.triage.level))
    assert pairs > 5000
    assert falls == []


# The thresholds that may fall when a warning sign goes from "no" to "yes", each for the
# clinical reason given in docs/triage.md ("no" rules out the usual explanation).
NO_TO_YES_FALLS = {"slipped_capital_femoral_epiphysis", "cauda_equina_syndrome", "septic_arthritis"}


def test_a_no_turned_into_yes_lowers_the_level_only_where_documented() -> None:
    pairs = 0
    fell: set[str] = set()
    for base in _bases():
        extra = sorted(ENGINE.rules.warning_findings_at(base.age) - set(base.findings))
        said = {
            v: [Case(base.age, base.sex, {**base.findings, f: v}) for f in extra]
            for v in (False, True)
        }
        no = ENGINE.assess_many(said[False], explain=False)
        yes = ENGINE.assess_many(said[True], explain=False)
        for f, before, after in zip(extra, no, yes, strict=True):
            assert before.triage is not None and after.triage is not None
            pairs += 1
            if level_rank(after.triage.level) < level_rank(before.triage.level):
                lost = [r for r in before.triage.reasons if r.level == before.triage.level]
                # Rules read only what is present: a "yes" never switches one off.
                assert all(r.rule.startswith("posterior:") for r in lost), (base, f, lost)
                fell |= {r.rule.removeprefix("posterior:") for r in lost}
    assert pairs > 10000
    assert fell == NO_TO_YES_FALLS
