"""A fast, approximate first pass that picks which questions get the exact evaluation.

Exact inference of every possible answer to every remaining question costs too much once several
findings are present (the exact algorithm grows with the number of present findings), so the
questions are first ranked with a mean-field approximation, and only a shortlist is scored
exactly by ``selection``.

The approximation treats conditions as independent with their current posterior probabilities
``p``. Each condition c reaches finding f directly or through a nerve root, with chance
``q_cf = 1 - (1 - w_cf) Π_r (1 - v_cr u_rf)``. For a finding f and a condition c,

    P(f absent | c present) = (1 - q_cf) B_f / (1 - p_c q_cf)
    P(f absent | c absent)  = B_f / (1 - p_c q_cf)

with ``B_f = (1 - leak_f) (1 - rootleak_f) Π_c (1 - p_c q_cf)``, the chance f is absent. A set of
answered findings multiplies these likelihoods; Bayes' rule gives the approximate posterior.

A sports checklist changes priors instead: a set of sports a multiplies each condition's prior
odds by its ratio, so with independent conditions the posterior odds move by the same ratio, and
``P(a | answers) ∝ prevalence(a) Π_c (p_c r_c1 + (1 - p_c) r_c0)``, where ``r_c1`` and ``r_c0``
are the ratios of the priors of c present and absent under a and now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from kneesource.interview.questions import QuestionSpec
from kneesource.interview.selection import (
    binary_entropy,
    entropy_bits,
    outcome_values,
    prevalence_of,
)
from kneesource.model.compiled import CompiledModel, FloatArray, Person
from kneesource.owned import once_per

_TINY = 1e-12


@once_per
def _reach(model: CompiledModel) -> tuple[FloatArray, FloatArray]:
    """(q: chance each condition alone sets each finding, via links or roots; root-leak part)."""
    log_not = np.zeros_like(model.condition_finding)
    for r in range(len(model.root_ids)):
        log_not += np.log1p(-np.outer(model.condition_root[:, r], model.root_finding[r]))
    q = 1.0 - (1.0 - model.condition_finding) * np.exp(log_not)
    root_leak_part = 1.0 - np.prod(1.0 - model.root_leak[:, None] * model.root_finding, axis=0)
    return q, root_leak_part


def approximate_presence(model: CompiledModel, conditions: FloatArray) -> FloatArray:
    """The approximate chance that each finding is present, ``1 - B_f``."""
    return 1.0 - _absent(model, np.clip(conditions, _TINY, 1.0 - _TINY))[1]


def _absent(model: CompiledModel, p: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(``1 - p_c q_cf`` for each condition and finding, ``B_f``)."""
    q, root_leak_part = _reach(model)
    not_fired = 1.0 - p[:, None] * q  # (n, F)
    absent = (1.0 - model.finding_leak) * (1.0 - root_leak_part) * np.prod(not_fired, axis=0)
    return not_fired, absent


def approximate_scores(
    model: CompiledModel,
    person: Person,
    conditions: FloatArray,
    candidates: Sequence[QuestionSpec],
    serious: FloatArray,
) -> list[tuple[float, float]]:
    """For each candidate: (approximate information gain in bits, expected absolute change in
    the probability of serious conditions)."""
    q, _ = _reach(model)
    p = np.clip(conditions, _TINY, 1.0 - _TINY)
    not_fired, absent = _absent(model, p)
    h_now = entropy_bits(p)
    yes_no = _yes_no_scores(model, p, q, not_fired, absent, serious, h_now)
    out = []
    for spec in candidates:
        if spec.type == "yes_no" and spec.finding is not None:
            out.append(yes_no[model.finding_index(spec.finding)])
        elif spec.sets_context():
            out.append(_context_score(model, person, spec, p, serious))
        else:
            out.append(_choice_score(model, spec, p, q, not_fired, absent, serious, h_now))
    return out


def _yes_no_scores(
    model: CompiledModel,
    p: FloatArray,
    q: FloatArray,
    not_fired: FloatArray,
    absent: FloatArray,
    serious: FloatArray,
    h_now: float,
) -> list[tuple[float, float]]:
    """Every finding as a yes/no question at once (columns of (n, F) arrays)."""
    pc = p[:, None]
    a_on = (1.0 - q) * absent / not_fired
    a_off = absent / not_fired
    post_no = pc * a_on / np.maximum(pc * a_on + (1.0 - pc) * a_off, _TINY)
    post_yes = pc * (1.0 - a_on) / np.maximum(pc * (1.0 - a_on) + (1.0 - pc) * (1.0 - a_off), _TINY)
    h_after = absent * binary_entropy(post_no).sum(axis=0) + (1.0 - absent) * binary_entropy(
        post_yes
    ).sum(axis=0)
    shift = absent * (np.abs(post_no - pc) * serious[:, None]).sum(axis=0) + (1.0 - absent) * (
        np.abs(post_yes - pc) * serious[:, None]
    ).sum(axis=0)
    gain = np.maximum(0.0, h_now - h_after)
    return [(float(g), float(s)) for g, s in zip(gain, shift, strict=True)]


def _answer_table(model: CompiledModel, spec: QuestionSpec) -> tuple[list[int], FloatArray]:
    """The findings of a choice or checklist (model columns) and its answers as an (answers, 1,
    findings) array: 1 present, 0 absent, -1 for a finding that answer leaves unknown. Built once
    per question (a checklist of k options has 2^k answers) and kept on the model."""
    tables = _tables(model)
    key = (spec.id, tuple(o.id for o in spec.options))  # a checklist may show fewer options
    cached = tables.get(key)
    if cached is None:
        outcomes = [sets for _, sets in outcome_values(spec)]
        ids = list(dict.fromkeys(f for o in outcomes for f in o))
        table = np.array([[int(o[f]) if f in o else -1 for f in ids] for o in outcomes])
        cached = (spec, [model.finding_index(f) for f in ids], table[:, None, :])
        tables[key] = cached
    return cached[1], cached[2]


@once_per
def _tables(
    model: CompiledModel,
) -> dict[tuple[str, tuple[str, ...]], tuple[QuestionSpec, list[int], FloatArray]]:
    """The answers tables of a model's questions, by question id and the options shown."""
    return {}


def _choice_score(
    model: CompiledModel,
    spec: QuestionSpec,
    p: FloatArray,
    q: FloatArray,
    not_fired: FloatArray,
    absent: FloatArray,
    serious: FloatArray,
    h_now: float,
) -> tuple[float, float]:
    """Every answer of a choice or checklist at once (``_answer_table``)."""
    idx, sets = _answer_table(model, spec)
    b = absent[idx]
    a_given_on = ((1.0 - q[:, idx]) * b / not_fired[:, idx])[None]  # (1, n, k)
    a_given_off = (b / not_fired[:, idx])[None]

    def likelihood(a: FloatArray) -> FloatArray:
        out: FloatArray = np.where(sets == 1, 1.0 - a, np.where(sets == 0, a, 1.0)).prod(axis=2)
        return out

    like_on, like_off = likelihood(a_given_on), likelihood(a_given_off)  # (answers, n)
    prob = np.where(sets[:, 0] == 1, 1.0 - b, np.where(sets[:, 0] == 0, b, 1.0)).prod(axis=1)
    total = float(prob.sum())
    if total < _TINY:
        return (0.0, 0.0)
    post = p * like_on / np.maximum(p * like_on + (1.0 - p) * like_off, _TINY)
    w = prob / total
    gain = float(w @ (h_now - binary_entropy(post).sum(axis=1)))
    shift = float(w @ (np.abs(post - p) * serious).sum(axis=1))
    return (max(0.0, gain), shift)


def _context_score(
    model: CompiledModel, person: Person, spec: QuestionSpec, p: FloatArray, serious: FloatArray
) -> tuple[float, float]:
    """Every set of ticks of a sports checklist, as a change of priors (see the module text)."""
    now = model.priors(person)
    weights, posts = [], []
    for _, sets in outcome_values(spec):
        ticked = frozenset(f for f, v in sets.items() if v)
        prior = model.priors(replace(person, activities=person.activities | ticked))
        # A condition impossible now (prior zero, ``prior.requires``) that the ticks make
        # possible: the answers so far say nothing about it, so it starts at its new prior.
        with np.errstate(divide="ignore", invalid="ignore"):
            on = np.where(now > 0.0, p * prior / now, prior)
            off = np.where(now > 0.0, (1.0 - p) * (1.0 - prior) / (1.0 - now), 1.0 - prior)
        weights.append(prevalence_of(spec, sets, person.age) * float(np.prod(on + off)))
        posts.append(on / (on + off))
    w = np.array(weights) / sum(weights)
    post = np.array(posts)
    gain = entropy_bits(w @ post) - float(w @ binary_entropy(post).sum(axis=1))
    shift = float(w @ (np.abs(post - p) * serious).sum(axis=1))
    return (max(0.0, gain), shift)
