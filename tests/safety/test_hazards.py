"""The hazard log holds: every probe case of the clinical safety review gets what its cited
guidance asks for, every listed control is load-bearing (removing it makes a probe of its hazard
fail), every high and medium hazard is proven by something, and the published log matches its
data. Expected levels and advice come from the guidance cited in each probe (probes.yaml)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rich.console import Console

from kneesource.case import Case
from kneesource.engine import Engine, default_engine
from kneesource.interview.triage_link import question_bank
from kneesource.render import pct, print_assessment
from tests.safety import hazard_log
from tests.safety.probes import PROBES, failures, probe_case, without

ENGINE: Engine = default_engine()
HAZARDS = hazard_log.hazards()
CONTROLS = [(h["id"], c) for h in HAZARDS for c in h.get("controls", [])]


@pytest.mark.parametrize("probe", PROBES, ids=[p["id"] for p in PROBES])
def test_probe_gets_what_its_guidance_asks(probe: dict[str, Any]) -> None:
    assert failures(ENGINE.rules, ENGINE, probe) == []


@pytest.mark.parametrize(("hazard", "control"), CONTROLS, ids=[f"{h}-{c}" for h, c in CONTROLS])
def test_removing_a_control_makes_a_probe_of_its_hazard_fail(hazard: str, control: str) -> None:
    kind, ident = control.split(":", 1)
    mutated = without(ENGINE.rules, kind, ident)
    probes = [p for p in PROBES if hazard in p.get("hazards", [])]
    assert probes, f"hazard {hazard} has controls but no probe"
    broken = {p["id"]: failures(mutated, ENGINE, p) for p in probes}
    assert any(broken.values()), f"no probe of {hazard} notices {control} removed"


def test_every_high_and_medium_hazard_is_proven() -> None:
    ids = [h["id"] for h in HAZARDS]
    expected = [f"H{i}" for i in range(1, 10)] + [f"M{i}" for i in range(1, 19)]
    expected += [f"L{i}" for i in range(1, 15)] + ["E", "S", "I"]
    assert ids == expected
    probed = {h for p in PROBES for h in p.get("hazards", [])}
    names = set(globals())
    for h in HAZARDS:
        checks = [c.split("::")[-1] for c in h.get("checks", [])]
        assert all(c in names for c in checks), (h["id"], checks)
        if h["severity"] in ("high", "medium"):
            assert h.get("controls") or checks, h["id"]
        if h.get("controls"):
            assert h["id"] in probed, h["id"]


def test_the_published_log_matches_its_data() -> None:
    text = hazard_log.DOC.read_text(encoding="utf-8")
    assert text == hazard_log.render(HAZARDS, PROBES), "run: python -m tests.safety.hazard_log"


def _advice(age: int, findings: dict[str, bool]) -> str:
    result = ENGINE.assess(Case(age, None, findings)).triage
    assert result is not None
    return result.advice


def test_general_and_child_nets_name_what_the_review_asked() -> None:
    # BSR hot swollen joint (fever often absent), GSTT DVT (999 for breathlessness), RCHT limp.
    nets = {n.id: n.text for n in ENGINE.rules.advice.safety_nets}
    for phrase in ("even without a fever", "knee replacement", "short of breath"):
        assert phrase in nets["general"]
    assert "fever with a limp" in nets["child_hip"]
    assert nets["general"] in _advice(45, {})
    assert nets["child_hip"] in _advice(9, {})


def test_screen_why_texts_name_emergencies() -> None:
    # The rules make cauda equina, a hot knee with fever and a cold leg emergencies (GIRFT, BSR,
    # acute limb ischaemia): the reasons for asking must not say "same day" or "soon" for them.
    bank = question_bank(ENGINE)
    for qid in ("screen_nerves", "screen_knee", "screen_leg"):
        why = " ".join((bank.get(qid).why or "").split())
        assert "emergenc" in why, qid
        assert "Each needs to be checked soon" not in why


def test_condition_advice_time_frames_match_the_rules() -> None:
    # NICE NG12 (48 hours under 25), Ottawa (cannot bear weight: X-ray now), BSR hot joint,
    # NHS leg cramps (10 minutes, same day for a swollen calf).
    advice = {c.id: " ".join(c.advice.split()) for c in ENGINE.kb.conditions}
    assert "48 hours" in advice["bone_tumour"]
    assert "today if you cannot put weight" in advice["mcl_injury"]
    assert "emergency department now" in advice["inflammatory_arthritis"]
    assert "same day" in advice["muscle_cramp"] and "massage" not in advice["muscle_cramp"]
    assert "not harmful" not in advice["osgood_schlatter"]
    assert "urgently (within days)" not in advice["meniscus_tear"]
    for cid, text in advice.items():
        assert "if they are safe for you" not in text, cid
        assert "anti-inflammatory medicine" not in text.lower(), cid


def test_self_checks_are_on_the_patient_screen() -> None:
    bank = question_bank(ENGINE)
    screen = bank.get("screen_self_check")
    assert screen.phase == "screen" and not screen.clinician_only
    for f in (
        "visible_deformity",
        "unable_to_straight_leg_raise",
        "calf_tenderness",
        "pulsatile_lump_behind_knee",
        "hard_lump_on_bone",
        "knee_or_kneecap_dislocated",
    ):
        assert f in screen.findings(), f


def test_patient_view_uses_the_patients_words() -> None:
    # Plain language in the patient view; the clinician wording only in clinician mode.
    probe = next(p for p in PROBES if p["id"] == "P14")
    result = ENGINE.assess(probe_case(ENGINE, probe))
    console = Console(record=True, width=120)
    print_assessment(console, result, ENGINE.kb)
    patient = console.export_text()
    for word in ("insidious", "haemarthrosis", "Erythema", "effusion"):
        assert word.lower() not in patient.lower(), word
    assert "you said" in patient
    console = Console(record=True, width=120)
    print_assessment(console, result, ENGINE.kb, clinician=True)
    assert "you said" not in console.export_text()


def test_shown_probabilities_stop_short_of_certainty() -> None:
    assert pct(0.999) == ">95%"
    assert pct(0.95) == "95.0%"
    assert pct(0.0004) == "<0.1%"


def test_soon_action_does_not_send_everyone_to_a_physiotherapist() -> None:
    action = ENGINE.rules.advice.levels["soon"].action
    assert "physiotherapist" not in action and "GP" in action


def test_outranked_reasons_are_marked() -> None:
    probe = next(p for p in PROBES if p["id"] == "P08")
    result = ENGINE.assess(probe_case(ENGINE, probe)).triage
    assert result is not None and result.level == "emergency"
    marker = ENGINE.rules.advice.outranked
    lower = [r for r in result.reasons if r.level != result.level]
    assert lower, "the probe needs a reason below its level"
    assert all(r.message.startswith(marker) for r in lower)
    assert not any(r.message.startswith(marker) for r in result.reasons if r not in lower)


def test_uncertainty_wording_follows_the_level_and_keeps_capitals() -> None:
    urgent = _advice(46, {"calf_swelling": True, "calf_pain": True, "lump_behind_knee": True})
    assert "(DVT)" in urgent and "(dvt)" not in urgent
    assert "assumes it until it has been ruled out" in urgent
    # A hard bony lump at 60: tumour reasons at soon, so the softer pair wording.
    later = _advice(60, {"hard_lump_on_bone": True, "knee_crepitus": True})
    if "cannot tell" in later:
        assert "assumes it" not in later
        assert "should be checked when you are seen" in later


def test_cannot_bear_weight_wording_has_no_injury_clause() -> None:
    words = ENGINE.kb.finding("unable_to_bear_weight").patient
    assert not re.search(r"injury", words)


def test_cold_pale_leg_wording_names_no_numbness_or_pain() -> None:
    # Review L3: "cold, pale, numb or very painful" sent a numb foot from sciatica to the
    # emergency department. The emergency finding says cold or pale only, wherever it is worded;
    # numbness of the foot is asked with the nerve signs.
    finding = ENGINE.kb.finding("cold_pale_leg")
    questions = question_bank(ENGINE).questions
    labels = [o.label for q in questions for o in q.options if o.finding == "cold_pale_leg"]
    assert labels
    rule = next(r for r in ENGINE.rules.rules if r.id == "limb_ischaemia_cold_pale")
    for words in (finding.patient, finding.clinician, *labels, rule.message):
        assert re.search(r"cold|pale", words), words
        assert not re.search(r"numb|pain", words), words
    numb = {o.finding for q in questions for o in q.options if "numb" in q.text}
    assert {"numbness_outer_leg_foot", "numbness_sole_heel"} <= numb


# Words a clinician uses that a patient should not have to know. The plain name of a condition
# may be followed by its clinical name in brackets, so that a person can tell their clinician:
# bracketed text is allowed, the rest must not use these words.
CLINICIAN_WORDS = (
    "insidious",
    "haemarthrosis",
    "hemarthrosis",
    "erythema",
    "effusion",
    "wells score",
    "wells item",
    "radiculopathy",
    "dermatome",
    "myotome",
    "paraesthesia",
    "paresthesia",
    "lachman",
    "mcmurray",
    "pathognomonic",
    "idiopathic",
    "aetiology",
    "oedema",
    "valgus",
    "varus",
    "crepitus",
    "palpation",
    "analgesia",
)


def _unbracketed(text: str) -> str:
    return re.sub(r"\([^)]*\)", "", " ".join(text.split())).lower()


def test_no_clinician_words_in_what_a_patient_reads() -> None:
    from kneesource.evaluation.vignettes import load_vignettes
    from kneesource.interview.triage_link import question_bank

    cases = [probe_case(ENGINE, p) for p in PROBES]
    cases += [v.case() for v in load_vignettes(ENGINE.kb).vignettes]
    for case in cases:
        console = Console(record=True, width=120)
        print_assessment(console, ENGINE.assess(case), ENGINE.kb)
        text = _unbracketed(console.export_text())
        for word in CLINICIAN_WORDS:
            assert word not in text, (case.case_id, word)
    for q in question_bank(ENGINE).questions:
        if q.clinician_only:
            continue
        shown = " ".join([q.text or "", q.why or "", *(o.label for o in q.options)])
        for word in CLINICIAN_WORDS:
            assert word not in _unbracketed(shown), (q.id, word)
    for f in ENGINE.kb.findings:
        for word in CLINICIAN_WORDS:
            assert word not in _unbracketed(f.patient), (f.id, word)
