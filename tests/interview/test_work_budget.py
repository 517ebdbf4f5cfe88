"""The interview's work budget (``policy.work_budget``, table entries as ``row_cost`` counts
them): within it the interview reads the full triage level and scores its whole shortlist; past
it the quick level is read and the shortlist is cut, best questions first."""

from __future__ import annotations

import numpy as np

from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.inference import junction
from kneesource.inference.exact import _plans, case_network, fits_kernel, row_cost
from kneesource.interview.flow import shortlist
from kneesource.interview.questions import QuestionSpec
from kneesource.interview.selection import baseline_of, question_rows
from kneesource.interview.triage_link import (
    budgeted_level,
    level_cost,
    level_function,
    question_bank,
    quick_level_function,
)

ENGINE = default_engine()
# Thirteen present findings: the knee, the back and the thigh of a 58-year-old woman.
BUSY = Case(
    58,
    "female",
    dict.fromkeys(
        [
            "pain_front_of_knee",
            "pain_inner_knee",
            "pain_dull_diffuse_ache",
            "knee_swelling",
            "knee_warmth",
            "pain_stairs_squatting",
            "pain_worse_with_activity_better_rest",
            "night_pain",
            "pain_over_6_weeks",
            "giving_way",
            "catching_clicking",
            "back_pain",
            "pain_front_of_thigh",
        ],
        True,
    ),
)


def test_row_cost_is_the_kernel_state_or_the_elimination_pass() -> None:
    model = ENGINE.model
    # The kernel: 2^(present findings + roots any observed finding reaches) per condition, by
    # hand for two present findings that reach no root and one absent one.
    few = {"knee_swelling": True, "giving_way": True, "knee_warmth": False}
    roots = model.root_finding[:, [model.finding_index(f) for f in few]].any(axis=1).sum()
    assert roots == 0
    assert row_cost(model, few) == model.n_conditions << 2
    # Too wide for the kernel: the entries of the elimination plan, built here with the
    # person's own priors (the structure, and so the cost, depends on them only through the
    # conditions the person cannot have, whose prior is zero: without the person, none, as for
    # priors that are all positive). The greedy order is not monotone in the conditions left
    # out, so neither cost bounds the other.
    wide = {**BUSY.findings, "calf_pain": True, "groin_pain": True, "limp": True, "hip_pain": True}
    assert not fits_kernel(model, wide)
    person = BUSY.person(model)
    net = case_network(model, person, wide)
    assert row_cost(model, wide, person) == junction.plan(net, _plans(model)).entries_per_row
    everyone = case_network(model, np.full(model.n_conditions, 0.01), wide)
    assert row_cost(model, wide) == junction.plan(everyone).entries_per_row
    assert row_cost(model, wide) != row_cost(model, wide, person)


def test_past_the_budget_the_interview_reads_the_quick_level() -> None:
    # A twisted knee with groin pain when the hip is moved, in a woman of 27: its quick level is
    # below the full level (the groin pain without the twist makes a stress fracture of the hip
    # 4.1%, over its 3% line; with it, 2.7%), and the full one costs combinations.
    twisted = Case(27, "female", {"injury_twist": True, "groin_pain_on_passive_hip_movement": True})
    post = ENGINE.assess(twisted).posterior
    full = level_function(ENGINE)(twisted, post)
    quick = quick_level_function(ENGINE)(twisted, post)
    assert quick < full
    cost = level_cost(ENGINE, twisted, post)
    assert cost > 0
    assert budgeted_level(ENGINE, twisted, post, cost) == full
    assert budgeted_level(ENGINE, twisted, post, cost - 1) == quick


def test_the_shortlist_is_cut_to_the_work_budget_best_first() -> None:
    bank = question_bank(ENGINE)
    policy = bank.policy
    model = ENGINE.model
    baseline = baseline_of(model, BUSY, quick_level_function(ENGINE))
    todo = [
        q
        for q in bank.for_mode("patient")
        if q.phase == "adaptive"
        and q.applies(BUSY.age, BUSY.sex)
        and not all(f in BUSY.findings for f in q.findings())
    ]
    per_row = row_cost(model, BUSY.evidence(model))

    def cost(questions: list[QuestionSpec]) -> int:
        return sum(per_row * len(question_rows(model, q, BUSY)[1]) for q in questions)

    unbounded = shortlist(ENGINE, baseline, todo, policy.model_copy(update={"work_budget": 2**62}))
    half = cost(unbounded) // 2
    cut = shortlist(ENGINE, baseline, todo, policy.model_copy(update={"work_budget": half}))
    assert cost(cut) <= half
    assert 1 < len(cut) < len(unbounded)
    assert {q.id for q in cut} <= {q.id for q in unbounded}
    # The shipped budget cuts this person's list too.
    assert cost(unbounded) > policy.work_budget
    assert len(shortlist(ENGINE, baseline, todo, policy)) < len(unbounded)
    # Nothing to cut with a budget that holds the whole list.
    assert (
        shortlist(
            ENGINE, baseline, todo, policy.model_copy(update={"work_budget": cost(unbounded)})
        )
        == unbounded
    )
    # With no budget at all the single best question is still scored.
    assert len(shortlist(ENGINE, baseline, todo, policy.model_copy(update={"work_budget": 0}))) == 1


def test_the_kernels_work_on_a_heavy_row_is_bounded_by_its_parts_by_hand() -> None:
    # A row of the kernel with many present findings, worked out here with plain loops over the
    # model's links: the conditions linked to a root that an observed finding involves come
    # first, over at most the involved roots and the present findings they or those roots cause
    # (the roots leave after them); every other condition linked to a present finding steps
    # over at most all present findings (fewer, as findings are in play only between their
    # first and last activation), and over at least the one finding it activates. So the widest
    # state is at most max(t + k, m) bits, and the work (STEP_ENTRIES an entry) between two
    # entries a step and that of those two states; ``row_cost``, for the budgets, still counts a
    # single state of all of them.
    from kneesource.inference import exact

    model = ENGINE.model
    findings = {**BUSY.findings, "calf_pain": True, "pain_back_of_knee": True}
    ids = list(model.finding_ids)
    observed = [ids.index(f) for f in findings]
    present = [ids.index(f) for f, v in findings.items() if v]
    n, n_roots = model.n_conditions, len(model.root_ids)
    roots = [r for r in range(n_roots) if any(model.root_finding[r, f] > 0 for f in observed)]
    first = [c for c in range(n) if any(model.condition_root[c, r] > 0 for r in roots)]
    touched = [
        f
        for f in present
        if any(model.condition_finding[c, f] > 0 for c in first)
        or any(model.root_finding[r, f] > 0 for r in roots)
    ]
    second = [
        c
        for c in range(n)
        if c not in first and any(model.condition_finding[c, f] > 0 for f in present)
    ]
    m, k, t = len(present), len(roots), len(touched)
    assert m + k >= exact.ROUTE_FROM_BITS and t < m  # a heavy row, some findings untouched
    two_states = len(first) * 2 ** (t + k) + len(second) * 2**m
    rows = exact.encode_evidence(model, [(BUSY.person(model), findings)])[1]
    bits, entries = exact._kernel_shape(model, rows)
    assert exact.kernel_bits(model, findings) == bits[0] <= max(t + k, m)
    assert exact.STEP_ENTRIES * 2 * (len(first) + len(second)) <= entries[0]
    assert entries[0] <= exact.STEP_ENTRIES * two_states < n * 2 ** (m + k)
    # The budgets count such a row as before (present findings and roots beyond MAX_BITS
    # together: the entries of bucket elimination's pass, as for any person).
    assert m + k > exact.MAX_BITS
    everyone = case_network(model, np.full(n, 0.01), findings)
    assert row_cost(model, findings) == junction.plan(everyone).entries_per_row
