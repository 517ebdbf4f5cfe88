"""The probe cases of the clinical safety review and the check each must pass.

Shared by the probe tests and by the mutation tests, which remove one safety control at a time
from the rule set and show that some probe then fails (so every control is load-bearing).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from kneesource.assessment import Assessment
from kneesource.case import Case
from kneesource.engine import Engine, default_engine
from kneesource.triage import RuleSet, level_rank, triage
from kneesource.triage.schema import AnyOf, Level

HERE = Path(__file__).resolve().parent
PROBES: list[dict[str, Any]] = yaml.safe_load((HERE / "probes.yaml").read_text())["probes"]
ENGINE_CONDITIONS = default_engine().model.condition_ids


def probe_case(engine: Engine, probe: dict[str, Any]) -> Case:
    findings = dict.fromkeys(probe["findings"], True)
    findings |= dict.fromkeys(probe.get("absent", []), False)
    return engine.case({"age": probe["age"], "sex": probe["sex"], "findings": findings})


def failures(
    rules: RuleSet, engine: Engine, probe: dict[str, Any], assessed: Assessment | None = None
) -> list[str]:
    """Everything about this probe's triage under ``rules`` that the guidance does not allow."""
    case = probe_case(engine, probe)
    assessment = assessed or engine.assess(case)
    result = triage(rules, engine.kb, case, assessment, engine.model)
    advice = result.advice
    said = "\n".join([r.message for r in result.reasons] + [advice])
    out: list[str] = []
    lo: Level | None = probe.get("min_level")
    hi: Level | None = probe.get("max_level")
    if lo is not None and level_rank(result.level) < level_rank(lo):
        out.append(f"level {result.level} below {lo}")
    if hi is not None and level_rank(result.level) > level_rank(hi):
        out.append(f"level {result.level} above {hi}")
    fired = {r.rule for r in result.reasons}
    out += [f"rule {r} did not fire" for r in probe.get("rules", []) if r not in fired]
    nets = {n.id: n.text for n in rules.advice.safety_nets}
    tips = {t.id: t.text for t in rules.advice.tips}
    notes = {m.id: m.text for m in rules.advice.medicines}
    for net in probe.get("nets", []):
        if net not in nets or nets[net] not in advice:
            out.append(f"safety net {net} missing")
    for tip in probe.get("tips", []):
        if tip not in tips or tips[tip] not in advice:
            out.append(f"tip {tip} missing")
    out += [
        f"tip {t} given" for t in probe.get("tips_absent", []) if t in tips and tips[t] in advice
    ]
    note = probe.get("medicine")
    if note is not None and (note not in notes or notes[note] not in advice):
        out.append(f"medicine note {note} missing")
    shown = {u.dangerous for u in result.uncertainties}
    out += [f"uncertainty about {d} shown" for d in probe.get("no_uncertainty", []) if d in shown]
    out += [f"does not say {s!r}" for s in probe.get("says", []) if s not in said]
    out += [f"says {s!r}" for s in probe.get("says_not", []) if s in said]
    return out


def without(rules: RuleSet, kind: str, ident: str) -> RuleSet:
    """``rules`` with one safety control taken away (the mutation a test must notice)."""
    advice = rules.advice
    if kind == "rule":
        kept = tuple(r for r in rules.rules if r.id != ident)
        assert len(kept) < len(rules.rules), ident
        return dataclasses.replace(rules, rules=kept)
    if kind == "threshold":
        condition, level = ident.split("/")
        kept_t = tuple(t for t in rules.thresholds if (t.condition, t.level) != (condition, level))
        assert len(kept_t) < len(rules.thresholds), ident
        return dataclasses.replace(rules, thresholds=kept_t)
    if kind == "net":
        nets = [n for n in advice.safety_nets if n.id != ident]
        assert len(nets) < len(advice.safety_nets), ident
        return dataclasses.replace(rules, advice=advice.model_copy(update={"safety_nets": nets}))
    if kind == "tip":
        tips = [t for t in advice.tips if t.id != ident]
        assert len(tips) < len(advice.tips), ident
        return dataclasses.replace(rules, advice=advice.model_copy(update={"tips": tips}))
    if kind == "tip_gate":
        tips = [
            t.model_copy(update={"avoid_when": None, "avoid_if_suspected": []})
            if t.id == ident
            else t
            for t in advice.tips
        ]
        assert any(t.id == ident for t in tips), ident
        return dataclasses.replace(rules, advice=advice.model_copy(update={"tips": tips}))
    if kind == "medicine":
        notes = [m for m in advice.medicines if m.id != ident]
        assert len(notes) < len(advice.medicines), ident
        return dataclasses.replace(rules, advice=advice.model_copy(update={"medicines": notes}))
    if kind == "self_care":
        # Without the gate every cause may be managed at home whatever its probability.
        everything = rules.self_care.model_copy(
            update={"causes": list(ENGINE_CONDITIONS), "min_probability": 0.0}
        )
        return dataclasses.replace(rules, self_care=everything)
    if kind == "sign_member":
        # A finding taken out of a sign's any_of (an examination finding no longer counting as
        # what the person would say).
        sign_id, member = ident.split("/")
        sign = rules.signs[sign_id]
        assert isinstance(sign.when, AnyOf) and member in sign.when.any_of, ident
        members = [m for m in sign.when.any_of if m != member]
        changed = sign.model_copy(update={"when": AnyOf(any_of=members)})
        return dataclasses.replace(rules, signs={**rules.signs, sign_id: changed})
    if kind == "uncertainty_age":
        pairs = tuple(
            u.model_copy(update={"age": None}) if f"{u.dangerous}/{u.benign}" == ident else u
            for u in rules.uncertainties
        )
        return dataclasses.replace(rules, uncertainties=pairs)
    raise ValueError(f"unknown control kind {kind!r}")
