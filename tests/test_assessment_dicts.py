"""The JSON form of an assessment is made from its arrays, without building the ranked objects:
it must be exactly what the objects give (``RankedCondition.to_dict``, Python's ``round``), and a
result table's columns exactly the objects' numbers.

Expected values come from Python's own ``round`` and from the ranked objects, which are built
by a separate path (``Assessment.conditions``)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from kneesource.assessment import round6
from kneesource.batch import result_row
from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.evaluation.simulator import sample_states
from kneesource.model.compiled import Person

ENGINE = default_engine()


def test_round6_is_pythons_round_even_next_to_a_half() -> None:
    rng = np.random.default_rng(6)
    # Decimal halves at the seventh place (0.1234565 is stored just above or below the half,
    # and numpy's scaled rounding can take the other side), their neighbours one step away,
    # and ordinary probabilities, tiny ones and the ends.
    halves = [
        float(Decimal(int(n)) / Decimal(10**7)) for n in rng.integers(0, 10**6, 4000) * 10 + 5
    ]
    near = [np.nextafter(h, d) for h in halves for d in (0.0, 1.0)]
    values = np.array(
        [*halves, *near, *rng.random(4000), *(rng.random(1000) ** 12), 0.0, 1.0, 5e-7, 1.5e-6]
    )
    assert round6(values) == [round(float(v), 6) for v in values]
    # The fix-up is needed: numpy's rounding alone differs from Python's on some halves.
    assert (np.rint(values * 1e6) / 1e6).tolist() != [round(float(v), 6) for v in values]


def _cases(n: int, seed: int) -> list[Case]:
    """People drawn from the model, each with 3 to 12 of their findings answered."""
    model = ENGINE.model
    rng = np.random.default_rng(seed)
    ids = [f for f in model.finding_ids if f not in model.evidence_skipped]
    column = {f: i for i, f in enumerate(model.finding_ids)}
    out = []
    for i in range(n):
        age = int(rng.integers(5, 90))
        sex = str(rng.choice(["female", "male"]))
        _, _, states = sample_states(model, model.priors(Person(age=age))[None, :], rng)
        chosen = rng.choice(len(ids), size=int(rng.integers(3, 13)), replace=False)
        findings = {ids[j]: bool(states[0, column[ids[j]]]) for j in chosen}
        out.append(Case(age, sex, findings, case_id=f"r{i}"))
    return out


# A wide case (scored by bucket elimination, with its explanations), and one fully answered.
WIDE = Case(
    58,
    "female",
    dict.fromkeys(
        ["knee_swelling", "calf_pain", "groin_pain", "limp", "hip_pain", "back_pain",
         "pain_front_of_thigh", "pain_inner_knee", "night_pain", "giving_way", "locking",
         "pain_on_knee_movement", "pain_stairs_squatting", "severe_pain"],
        True,
    ),
)  # fmt: skip
EVERYTHING = Case(
    45,
    "male",
    {
        **{f: False for f in ENGINE.model.finding_ids if f not in ENGINE.model.evidence_skipped},
        "back_pain": True,
        "pain_front_of_thigh": True,
        "femoral_stretch_positive": True,
    },
)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_json_form_is_what_the_ranked_objects_give(seed: int) -> None:
    cases = [*_cases(150, seed), WIDE, EVERYTHING]
    listed = 0
    for a in ENGINE.assess_many(cases):
        fast = a.to_dict()["conditions"]
        assert fast == [c.to_dict() for c in a.conditions]
        # The same ranking, the same order of keys.
        assert [list(d) for d in fast] == [list(c.to_dict()) for c in a.conditions]
        listed += sum(len(d["supporting"]) + len(d["conflicting"]) for d in fast)
    assert listed > 1000  # the evidence lists were compared, not only empty ones


def test_a_result_row_holds_the_ranked_objects_numbers() -> None:
    for a in ENGINE.assess_many([*_cases(60, 3), WIDE]):
        row = result_row(a, ENGINE)
        assert row["top_condition"] == a.conditions[0].id
        assert row["top_probability"] == a.conditions[0].probability
        assert {c.id: c.probability for c in a.conditions} == {
            k[2:]: v for k, v in row.items() if k.startswith("p_")
        }


def test_the_evidence_lists_are_the_findings_that_move_each_condition_strongest_first() -> None:
    # Expected: each case assessed again with one finding left out (``Case.without``), a path
    # that shares nothing with the explanation rows but the posterior.
    model = ENGINE.model
    for case in [*_cases(12, 4), WIDE]:
        a = ENGINE.assess(case)
        listed = {c.id: (c.supporting, c.conflicting) for c in a.conditions}
        now = {c.id: c.probability for c in a.conditions}
        order = [f for f in case.findings if f not in model.triage_ids]
        without = {
            f: {
                c.id: c.probability
                for c in ENGINE.assess_many([case.without(f)], False)[0].conditions
            }
            for f in order
        }
        for c, p in now.items():
            effect = {f: p - without[f][c] for f in order}
            # A finding within rounding of the listing line could fall either side of it.
            edge = {f for f, e in effect.items() if abs(abs(e) - 1e-3) < 1e-9}
            moved = [(f, e) for f, e in effect.items() if abs(e) >= 1e-3 and f not in edge]
            moved.sort(key=lambda x: -abs(x[1]))  # stable: ties in the order given
            supporting, conflicting = listed[c]
            assert [e.finding for e in supporting if e.finding not in edge] == [
                f for f, e in moved if e > 0
            ]
            assert [e.finding for e in conflicting if e.finding not in edge] == [
                f for f, e in moved if e < 0
            ]
            for e in (*supporting, *conflicting):
                assert e.value == case.findings[e.finding]
                assert e.probability_without == pytest.approx(without[e.finding][c], abs=1e-9)
