"""Bucket elimination for wide evidence: exact, leave-one-out rows exact, priors as the YAML says,
and every case the vocabulary allows answered within the stated bound.

Expected values: brute-force enumeration of random networks (every joint state summed), and
priors computed by hand from the knowledge files (read with PyYAML, not the project's loader).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

import kneesource
from kneesource.engine import default_engine
from kneesource.errors import TooComplexError
from kneesource.inference import exact, junction
from kneesource.inference.exact import case_network, fits_kernel, posterior, posterior_wide
from kneesource.model.compiled import Person
from tests.inference.test_exact_vs_brute_force import _assert_enumerated
from tests.random_models import brute_force, random_model

MODEL = default_engine().model


@pytest.mark.parametrize("seed", range(5))
def test_leave_one_out_rows_match_enumeration(seed: int) -> None:
    # Dense links give findings with more causes than DIRECT_PARENTS, so chains are built too.
    model = random_model(50 + seed, n=7, n_findings=12, density=0.6)
    assert (model.condition_finding > 0).sum(axis=0).max() > junction.DIRECT_PARENTS
    rng = np.random.default_rng(seed)
    person = Person(age=int(rng.integers(0, 100)), sex="male" if seed % 2 else None)
    ids = rng.choice(len(model.finding_ids), size=8, replace=False)
    evidence = {model.finding_ids[i]: bool(rng.random() < 0.6) for i in ids}
    post, without = posterior_wide(model, person, evidence, list(evidence))
    _assert_enumerated(post, model, person, evidence)
    for i, f in enumerate(evidence):
        rest = {k: v for k, v in evidence.items() if k != f}
        np.testing.assert_allclose(without[i], brute_force(model, person, rest)[0], atol=1e-10)


def _hand_prior(
    entry: dict, age: int, person_age_band: str, sex: str | None, sports: set[str]
) -> float:
    needs = set(entry["prior"].get("requires", []))
    if needs and not needs & sports:
        return 0.0  # possible only with one of these contexts
    ages = entry["prior"].get("ages")
    if ages is not None and not ages.get("min", 0) <= age <= ages.get("max", 120):
        return 0.0  # possible only at these ages
    logit = math.log(entry["prior"]["base"] / (1.0 - entry["prior"]["base"]))
    for mod in entry["prior"].get("modifiers", []):
        odds = mod.get("odds", {})
        if mod["factor"] == "age_band" and person_age_band in odds:
            logit += math.log(odds[person_age_band])
        elif mod["factor"] == "age":
            logit += sum(math.log(r["odds"]) for r in mod["ranges"] if r["min"] <= age <= r["max"])
        elif mod["factor"] == "sex" and sex in odds:
            logit += math.log(odds[sex])
        elif mod["factor"] in ("activity", "history"):
            logit += sum(math.log(v) for k, v in odds.items() if k in sports)
    return 1.0 / (1.0 + math.exp(-logit))


def test_priors_are_the_yaml_numbers_worked_by_hand() -> None:
    directory = Path(kneesource.__file__).parent / "knowledge"
    entries = {}
    for name in ("conditions_knee.yaml", "conditions_spine_hip.yaml"):
        for entry in yaml.safe_load((directory / name).read_text())["conditions"]:
            entries[entry["id"]] = entry
    assert set(entries) == set(MODEL.condition_ids)
    # One worked by hand in full: patellofemoral pain, base 0.10, a 15-year-old girl who runs:
    # odds 0.1/0.9 x 3.0 (adolescent) x 1.4 (female) x 2.5 (running) = 1.16667, p = 0.53846.
    girl = Person(age=15, sex="female", activities=frozenset({"activity_running"}))
    pfp = MODEL.condition_ids.index("patellofemoral_pain")
    assert MODEL.priors(girl)[pfp] == pytest.approx(1.16667 / 2.16667, abs=1e-5)
    # And a slipped growth plate, base 0.00001, in a girl of 9: odds 0.00001/0.99999 x 50 (child)
    # x 6 (ages 8-9) x 0.7 (female) = 0.0021000, p = 0.0020956; at 7 the year odds are 0.1.
    scfe = MODEL.condition_ids.index("slipped_capital_femoral_epiphysis")
    assert MODEL.priors(Person(age=9, sex="female"))[scfe] == pytest.approx(0.0020956, abs=1e-7)
    assert MODEL.priors(Person(age=7, sex="female"))[scfe] == pytest.approx(3.5e-5, rel=1e-3)
    # An irritable hip occurs only to 17: at 17, odds 0.00003/0.99997 x 50 (adolescent) =
    # 0.00150005, p = 0.0014978; at 18, zero.
    irritable = MODEL.condition_ids.index("transient_synovitis_hip")
    assert MODEL.priors(Person(age=17))[irritable] == pytest.approx(0.0014978, abs=1e-7)
    assert MODEL.priors(Person(age=18))[irritable] == 0.0
    # A knee replacement's own problems need a replacement: zero without one; with a total one,
    # odds 0.0006/0.9994 x 1000 = 0.600360, p = 0.375141.
    implant = MODEL.condition_ids.index("knee_replacement_problem")
    assert MODEL.priors(Person(age=74))[implant] == 0.0
    replaced = Person(age=74, activities=frozenset({"prosthetic_knee"}))
    assert MODEL.priors(replaced)[implant] == pytest.approx(0.375141, abs=1e-6)
    people = [
        (Person(age=15, sex="female", activities=frozenset({"activity_running"})), "adolescent"),
        (Person(age=7, sex="male"), "child"),
        (Person(age=9, sex="female"), "child"),
        (Person(age=45), "adult"),
        (Person(age=17, sex="male"), "adolescent"),
        (Person(age=18, sex="female"), "young_adult"),
        (Person(age=62, sex="female"), "older_adult"),
        (Person(age=74, sex="female", activities=frozenset({"prosthetic_knee"})), "elderly"),
        (
            Person(age=58, sex="male", activities=frozenset({"partial_knee_replacement"})),
            "older_adult",
        ),
        (Person(age=81, sex="male", activities=frozenset({"activity_pivoting_sport"})), "elderly"),
        (
            Person(
                age=24,
                sex="male",
                activities=frozenset({"activity_jumping_sport", "activity_pivoting_sport"}),
            ),
            "young_adult",
        ),
    ]
    for person, band in people:
        priors = MODEL.priors(person)
        for i, cid in enumerate(MODEL.condition_ids):
            expected = _hand_prior(
                entries[cid], person.age, band, person.sex, set(person.activities)
            )
            assert priors[i] == pytest.approx(expected, rel=1e-9), (cid, person)
        # With no evidence the posterior is the prior.
        np.testing.assert_allclose(posterior(MODEL, person, {}).conditions, priors, atol=1e-12)


def _linked_ids() -> list[str]:
    linked = (MODEL.condition_finding > 0).sum(axis=0) + (MODEL.root_finding > 0).sum(axis=0)
    order = np.argsort(-linked, kind="stable")
    return [MODEL.finding_ids[i] for i in order if linked[i] > 0]


def _tables_holding(condition: int, person: Person, evidence: dict[str, bool]) -> set[object]:
    """Which tables of the case's network hold ``condition``: ``(condition,)`` for its own
    prior, ``"more"`` for any table it shares with its children."""
    scopes = [f.scope for f in case_network(MODEL, person, evidence).factors]
    return {s if len(s) == 1 else "more" for s in scopes if condition in s}


def test_a_condition_its_person_cannot_have_is_left_out_of_the_tables_exactly() -> None:
    # Without a knee replacement the implant's problems have a prior of zero: the tables leave
    # them out, which changes no probability (the kernel, which keeps every condition, agrees):
    # on the hardest evidence (the 40 findings with most causes) the implant's problems are in
    # no table but their own prior, where a replacement puts them in their children's, and the
    # work is less than with every condition kept. (The greedy elimination order can still find
    # a wider cluster for the smaller network: a heuristic's width, not the network's, so the
    # two widths are not compared.)
    implant = MODEL.condition_ids.index("knee_replacement_problem")
    evidence = {"giving_way": True, "knee_swelling": True, "pain_stairs_squatting": True}
    evidence |= {"catching_clicking": True, "pain_over_6_weeks": True, "locking": False}
    for person in (Person(age=70), Person(age=70, activities=frozenset({"prosthetic_knee"}))):
        wide, _ = posterior_wide(MODEL, person, evidence, [])
        narrow = posterior(MODEL, person, evidence)
        np.testing.assert_allclose(wide.conditions, narrow.conditions, atol=1e-10)
        np.testing.assert_allclose(wide.roots, narrow.roots, atol=1e-10)
        for group, p in narrow.sources.items():
            assert wide.sources[group] == pytest.approx(p, abs=1e-10)
    assert wide.conditions[implant] > 0.5  # with the replacement
    assert posterior_wide(MODEL, Person(age=70), evidence, [])[0].conditions[implant] == 0.0
    hardest = dict.fromkeys(_linked_ids()[:40], True)
    replaced = Person(age=50, activities=frozenset({"prosthetic_knee"}))
    for person, tables in ((Person(age=50), {(implant,)}), (replaced, {(implant,), "more"})):
        assert _tables_holding(implant, person, hardest) == tables, person
    assert exact.row_cost(MODEL, hardest, Person(age=50)) < exact.row_cost(MODEL, hardest)


def test_a_condition_outside_its_ages_is_left_out_of_the_tables_exactly() -> None:
    # An irritable hip, an infected hip in a child, a slipped growth plate and Perthes disease
    # occur only to 17 (prior.ages), and osteoarthritis of the knee and hip, a narrowed spinal
    # canal, narrowed leg arteries and a popliteal aneurysm only from 18: outside those ages
    # their prior is zero and the tables leave them out, which changes no probability (the
    # kernel keeps every condition and agrees). On the hardest evidence (the 40 findings with
    # most causes) each set is in its children's tables at its own ages and in no table but its
    # own prior at the others.
    gated = [
        MODEL.condition_ids.index(c)
        for c in (
            "transient_synovitis_hip",
            "septic_arthritis_hip",
            "slipped_capital_femoral_epiphysis",
            "perthes_disease",
        )
    ]
    evidence = {"limp": True, "fever_or_unwell": True, "hip_pain": True, "groin_pain": False}
    evidence |= {"hip_internal_rotation_reduced_or_painful": True, "unable_to_bear_weight": True}
    for person in (Person(age=17, sex="male"), Person(age=18, sex="male")):
        wide, _ = posterior_wide(MODEL, person, evidence, [])
        narrow = posterior(MODEL, person, evidence)
        np.testing.assert_allclose(wide.conditions, narrow.conditions, atol=1e-10)
        np.testing.assert_allclose(wide.roots, narrow.roots, atol=1e-10)
        at_18 = wide.conditions[gated]
    assert (posterior(MODEL, Person(age=17), evidence).conditions[gated] > 0).all()
    assert (at_18 == 0.0).all()
    adult_only = [
        MODEL.condition_ids.index(c)
        for c in (
            "knee_osteoarthritis",
            "hip_osteoarthritis",
            "lumbar_spinal_stenosis",
            "arterial_claudication",
            "popliteal_artery_aneurysm",
        )
    ]
    at_17 = posterior(MODEL, Person(age=17), evidence).conditions[adult_only]
    assert (at_17 == 0.0).all()
    assert (posterior(MODEL, Person(age=18), evidence).conditions[adult_only] > 0).all()
    hardest = dict.fromkeys(_linked_ids()[:40], True)
    for age, live, gone in ((17, gated, adult_only), (18, adult_only, gated)):
        for c in live:
            assert _tables_holding(c, Person(age=age), hardest) == {(c,), "more"}, (age, c)
        for c in gone:
            assert _tables_holding(c, Person(age=age), hardest) == {(c,)}, (age, c)


def test_forty_findings_fit_the_bound_and_wider_evidence_is_refused_before_any_work() -> None:
    # Up to 40 present findings fit, the hardest 40 included (the findings with most causes);
    # the min-fill order of a subset is checked on the hardest subsets. Wider evidence either
    # fits or is refused by its plan, before any table is built, with TooComplexError (exit 2 on
    # the command line): never a MemoryError or a traceback.
    ids = _linked_ids()
    for k in (25, 40):
        for person in (Person(age=50), Person(age=6)):  # a child's tables hold more causes
            evidence = dict.fromkeys(ids[:k], True)
            the_plan = junction.plan(case_network(MODEL, person, evidence))
            assert the_plan.feasible, (k, person, the_plan.max_cluster_bits)
    for k in [*range(50, len(ids), 15), len(ids)]:
        evidence = dict.fromkeys(ids[:k], True)
        the_plan = junction.plan(case_network(MODEL, Person(age=50), evidence))
        if not the_plan.feasible:
            with pytest.raises(TooComplexError, match="leave out"):
                posterior(MODEL, Person(age=50), evidence)


def test_wide_case_is_assessed_with_or_without_explanations() -> None:
    engine = default_engine()
    oa = MODEL.condition_ids.index("knee_osteoarthritis")
    shared = [MODEL.finding_ids[i] for i in np.flatnonzero(MODEL.condition_finding[oa])]
    case = engine.case({"age": 66, "sex": "female", "findings": dict.fromkeys(shared[:20], True)})
    assert not fits_kernel(MODEL, case.evidence(MODEL))
    explained = engine.assess(case)
    assert explained.explained
    top = explained.conditions[0]
    assert top.id == "knee_osteoarthritis" and top.supporting
    # Each listed effect is the posterior without that finding, computed on its own.
    item = top.supporting[0]
    alone = posterior(MODEL, case.person(MODEL), case.without(item.finding).evidence(MODEL))
    assert item.probability_without == pytest.approx(alone.conditions[oa], abs=1e-9)

    # The 40 findings with most causes fit the bound, but explaining each would cost more than
    # the explanation budget.
    hardest = engine.case({"age": 66, "findings": dict.fromkeys(_linked_ids()[:40], True)})
    wide = engine.assess(hardest)
    assert not wide.explained
    assert all(not c.supporting and not c.conflicting for c in wide.conditions)
    assert wide.to_dict()["explained"] is False
    assert wide.triage is not None


def test_cli_answers_every_finding_present_without_a_traceback(tmp_path: Path) -> None:
    # The 40 findings with most causes are answered (exit 0, explanations not worked out); every
    # linked finding present at once is answered if its plan fits the bound and otherwise refused
    # before any work with the message and exit 2 (with narrowed leg arteries in the model it
    # needs 2^26 entries). Never a traceback.
    ids = _linked_ids()
    for evidence, name, must_fit in ((ids[:40], "hardest40.json", True), (ids, "all.json", False)):
        case = tmp_path / name
        case.write_text(json.dumps({"age": 40, "findings": dict.fromkeys(evidence, True)}))
        done = subprocess.run(
            [sys.executable, "-m", "kneesource", "assess", str(case)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "Traceback" not in done.stderr
        the_plan = junction.plan(case_network(MODEL, Person(40), dict.fromkeys(evidence, True)))
        assert the_plan.feasible or not must_fit
        if the_plan.feasible:
            assert done.returncode == 0, done.stderr
            assert "not worked out for this case" in " ".join(done.stdout.split())
        else:
            assert done.returncode == 2, done.stderr
            assert "leave out findings" in " ".join(done.stderr.split())


def test_without_explanations_the_probabilities_and_triage_are_the_same() -> None:
    engine = default_engine()
    rng = np.random.default_rng(12)
    ids = [f for f in MODEL.finding_ids if f not in MODEL.evidence_skipped]
    cases = []
    for _ in range(40):
        chosen = rng.choice(len(ids), size=int(rng.integers(0, 25)), replace=False)
        findings = {ids[j]: bool(rng.random() < 0.3) for j in chosen}
        cases.append(engine.case({"age": int(rng.integers(1, 95)), "findings": findings}))
    full = engine.assess_many(cases)
    bare = engine.assess_many(cases, explain=False)
    for a, b in zip(full, bare, strict=True):
        assert b.explained is False
        assert [c.id for c in a.conditions] == [c.id for c in b.conditions]
        # The same numbers up to rounding: a process that has not loaded the compiled kernel
        # yet answers the smaller batch with the numpy one, which sums in another order.
        assert [c.probability for c in a.conditions] == pytest.approx(
            [c.probability for c in b.conditions], abs=1e-12
        )
        assert a.pain_source == pytest.approx(b.pain_source, abs=1e-12)
        assert a.nerve_roots == pytest.approx(b.nerve_roots, abs=1e-12)
        assert a.triage is not None and b.triage is not None
        assert a.triage.to_dict() == b.triage.to_dict()
        assert all(not c.supporting and not c.conflicting for c in b.conditions)


def test_passes_over_the_chunk_budget_run_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Four threads work out the fewest findings with most causes (25 or more) whose one row needs
    # more tables than the 256 MB chunk budget (plan.memory_per_row; 28 findings, 311 MB, when
    # this was written), so their passes must not overlap. junction._run_rows (one chunk of a
    # pass) is wrapped to count the chunks running at once (each takes about half a second);
    # without the lock in junction.run all four overlap.
    running, most = 0, 0
    guard = threading.Lock()
    real_rows = junction._run_rows

    def counting(
        net: junction.Network, the_plan: junction.Plan, rows: slice
    ) -> tuple[np.ndarray, np.ndarray]:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        try:
            return real_rows(net, the_plan, rows)
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(junction, "_run_rows", counting)
    for k in range(25, 41):
        evidence = dict.fromkeys(_linked_ids()[:k], True)
        if junction.plan(case_network(MODEL, Person(age=50), evidence)).memory_per_row > (
            junction.CHUNK_ENTRIES
        ):
            break
    else:
        pytest.fail("no set of up to 40 findings needs more than the chunk budget")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            posterior(MODEL, Person(age=50), evidence)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert most == 1


def test_rows_run_together_give_what_each_row_gives_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # The rows of a pass share its tables (the rows on their last axis, compiled kernels for the
    # maximum and the sums of several rows); a single row runs numpy's own. Expected values: each
    # row run alone (ROWS_CLUSTER_ENTRIES at 0 cuts every pass into rows of one), for the
    # leave-one-out rows of six present findings with many causes and five absent ones (a pass
    # whose largest cluster lets all its rows share it), and of the sparse man below.
    hardest = dict.fromkeys(_linked_ids()[:7], True)
    absent = dict.fromkeys(
        ["limp", "cramps_at_night", "locking", "night_pain", "fever_or_unwell"], False
    )
    cases = [
        (Person(age=50, sex="female"), {**hardest, **absent}),
        (SPARSE_PERSON, SPARSE_EVIDENCE),
    ]
    chunks: list[int] = []
    real_rows = junction._run_rows

    def counting(net: junction.Network, p: junction.Plan, rows: slice) -> object:
        chunks.append(len(range(*rows.indices(net.rows))))
        return real_rows(net, p, rows)

    for person, evidence in cases:
        net = case_network(MODEL, person, evidence, list(evidence))
        the_plan = junction.plan(net)
        assert net.rows > 10 and junction.ROWS_CLUSTER_ENTRIES >> the_plan.max_cluster_bits > 10
        chunks.clear()
        monkeypatch.setattr(junction, "_run_rows", counting)
        together = junction.run(net, the_plan)
        assert chunks == [net.rows]
        monkeypatch.setattr(junction, "ROWS_CLUSTER_ENTRIES", 0)
        chunks.clear()
        alone = junction.run(net, the_plan)
        assert chunks == [1] * net.rows
        monkeypatch.undo()
        np.testing.assert_allclose(together.marginals, alone.marginals, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(together.log_z, alone.log_z, rtol=1e-12)


# A person of 86 with 35 present findings and 28 absent ones (a random draw of the kernel
# tests, as a clinician entering many findings might give): 16 bits for the kernel (2.3 million
# entries a row), about 0.17 million for bucket elimination, whose elimination order finds a
# narrower path through these findings than the kernel's fixed order of conditions.
SPARSE_PERSON = Person(age=86)
SPARSE_PRESENT = [
    "absent_foot_pulses", "back_pain", "bony_enlargement_knee", "calf_claudication",
    "cramps_at_night", "drehmann_sign", "effusion_on_exam", "entire_leg_swollen", "felt_pop",
    "injury_direct_blow", "known_inflammatory_arthritis", "leg_pain_walking_eased_sitting",
    "leg_swelling", "limp", "medial_ankle_sensation_reduced", "morning_stiffness_over_30_min",
    "outer_thigh_burning_numbness", "pain_at_set_distance_running", "pain_front_of_thigh",
    "pain_start_of_run_eases", "pain_tight_throbbing", "pain_worse_downhill",
    "pain_worse_sitting_cough_sneeze", "pain_worse_trunk_twist", "pins_and_needles_leg",
    "pitting_oedema", "previous_spine_surgery", "progressive_leg_weakness",
    "recent_joint_surgery_or_injection", "recent_long_travel", "resisted_knee_flexion_pain",
    "similar_episodes_before", "unable_to_straight_leg_raise", "unexplained_weight_loss",
    "valgus_stress_pain_30",
]  # fmt: skip
SPARSE_ABSENT = [
    "bedridden_or_major_surgery_recently", "big_toe_extension_weak", "breathless_or_chest_pain",
    "calf_swelling", "calf_swelling_over_3cm", "catching_clicking", "femoral_stretch_positive",
    "frequent_kneeling", "hard_lump_on_bone", "hip_adduction_weak", "injury_blow_to_outer_knee",
    "injury_high_energy", "injury_twist", "local_knee_signs", "night_pain", "noble_test_positive",
    "numbness_inner_knee", "overweight_child", "pain_on_moving_toes", "patellar_apprehension",
    "prepatellar_swelling", "pulsatile_lump_behind_knee", "quadriceps_weakness",
    "recent_immobilisation", "tight_swollen_calf_or_shin", "unable_to_bear_weight",
    "unable_to_straighten_knee", "weak_push_off_on_toes",
]  # fmt: skip
SPARSE_EVIDENCE = {**dict.fromkeys(SPARSE_PRESENT, True), **dict.fromkeys(SPARSE_ABSENT, False)}


def _left_out_one_at_a_time() -> list[tuple[Person, dict[str, bool]]]:
    """The person's explanation rows: each present finding left out."""
    return [
        (SPARSE_PERSON, {k: v for k, v in SPARSE_EVIDENCE.items() if k != f})
        for f in SPARSE_PRESENT
    ]


def test_rows_the_kernel_could_hold_run_by_bucket_elimination_when_cheaper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The person's explanation rows go to bucket elimination, and give what the kernel gives (both
    # exact; the kernel is checked against brute-force enumeration in
    # test_exact_vs_brute_force).
    assert exact.kernel_bits(MODEL, SPARSE_EVIDENCE) == 16
    cases = [(SPARSE_PERSON, SPARSE_EVIDENCE), *_left_out_one_at_a_time()]
    priors, rows = exact.encode_evidence(MODEL, cases)
    bits, entries = exact._kernel_shape(MODEL, rows)
    assert exact._cheaper_wide(MODEL, rows, bits, entries, exact.load_compiled()).all()
    routed = exact.posterior_rows(MODEL, priors, rows)
    monkeypatch.setattr(exact, "ROUTE_FROM_SECONDS", math.inf)
    assert not exact._cheaper_wide(MODEL, rows, bits, entries, exact.load_compiled()).any()
    on_kernel = exact.posterior_rows(MODEL, priors, rows)
    for a, b in zip(routed, on_kernel, strict=True):
        np.testing.assert_allclose(a.conditions, b.conditions, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.roots, b.roots, rtol=0, atol=1e-12)
        for g, p in b.sources.items():
            assert a.sources[g] == pytest.approx(p, abs=1e-12)
        assert a.log_evidence == pytest.approx(b.log_evidence, abs=1e-9)


def test_rows_the_kernel_could_hold_never_share_a_pass_with_wider_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The person above, their explanation rows (sent to bucket elimination) and a wider row that
    # contradicts none of them (four more present findings: 20 bits). Sharing a pass would give
    # his rows the wider row's network, which near the bound could be refused for them.
    wider = {
        **SPARSE_EVIDENCE,
        **dict.fromkeys(
            [
                "hip_pain",
                "known_knee_osteoarthritis",
                "knee_xray_changes",
                "raised_inflammatory_markers",
            ],
            True,
        ),
    }
    cases = [(SPARSE_PERSON, SPARSE_EVIDENCE), (SPARSE_PERSON, wider), *_left_out_one_at_a_time()]
    priors, rows = exact.encode_evidence(MODEL, cases)
    bits = exact._row_bits(MODEL, rows)
    assert bits[1] > exact.MAX_BITS >= bits[[0, *range(2, len(cases))]].max()
    passes: list[np.ndarray] = []
    real = exact._wide_rows

    def spy(model, priors, evidence):  # type: ignore[no-untyped-def]
        passes.append(exact._row_bits(model, evidence))
        return real(model, priors, evidence)

    monkeypatch.setattr(exact, "_wide_rows", spy)
    exact.posterior_rows(MODEL, priors, rows)
    assert len(passes) == 2
    assert all((p > exact.MAX_BITS).all() or (p <= exact.MAX_BITS).all() for p in passes)
