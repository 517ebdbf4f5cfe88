"""Small random noisy-OR models and a brute-force oracle, for testing inference exactly.

The oracle enumerates every joint state of conditions and roots (2^(n+5)), so expected values come
from direct summation of the joint distribution, independent of the algorithm under test. The
complaint (knee-region pain, present when any condition is or by its leak) is a factor of every
state, with the population priors and the leak worked out here from their definition
(``population_priors``), not by the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from kneesource.evaluation.simulator import sample_states
from kneesource.kb.schema import AGES, ROOT_IDS
from kneesource.model.compiled import CompiledModel, Person, check_model


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def random_model(
    seed: int,
    n: int = 6,
    n_findings: int = 10,
    density: float = 0.35,
    complaint_rate: float = 0.3,
    complaint_other: float = 0.05,
) -> CompiledModel:
    rng = np.random.default_rng(seed)
    groups = ("knee", "spine", "hip", "vascular", "other")
    cond_find = np.where(
        rng.random((n, n_findings)) < density, rng.uniform(0.05, 0.95, (n, n_findings)), 0.0
    )
    cond_root = np.where(rng.random((n, 5)) < 0.3, rng.uniform(0.1, 0.9, (n, 5)), 0.0)
    root_find = np.where(
        rng.random((5, n_findings)) < 0.3, rng.uniform(0.1, 0.9, (5, n_findings)), 0.0
    )
    model = CompiledModel(
        condition_ids=tuple(f"c{i}" for i in range(n)),
        groups=tuple(groups[i % 5] for i in range(n)),
        root_ids=ROOT_IDS,
        finding_ids=tuple(f"f{j}" for j in range(n_findings)),
        context_ids=("ctx_a",),
        base_logit=_ro(rng.normal(-2.0, 1.0, n)),
        age_log_odds=_ro(rng.normal(0.0, 0.5, (n, AGES))),
        sex_log_odds=_ro(rng.normal(0.0, 0.3, (n, 2))),
        activity_log_odds=_ro(rng.normal(0.0, 0.5, (n, 1))),
        condition_root=_ro(cond_root),
        root_leak=_ro(rng.uniform(0.001, 0.05, 5)),
        condition_finding=_ro(cond_find),
        root_finding=_ro(root_find),
        finding_leak=_ro(rng.uniform(0.005, 0.2, n_findings)),
        knowledge_base_version="test",
        sport_ids=("ctx_a",),
        complaint_rate=complaint_rate,
        complaint_other=complaint_other,
    )
    check_model(model)
    return model


def brute_force(
    model: CompiledModel, person: Person, findings: dict[str, bool]
) -> tuple[np.ndarray, np.ndarray, dict[str, float], float]:
    """Posterior of conditions, roots, sources and log P(evidence) by full enumeration."""
    n, r = model.n_conditions, len(model.root_ids)
    pri, rate, leak = population_priors(model, model.priors(person))
    obs = [(model.finding_index(f), v) for f, v in findings.items()]
    total = 0.0
    cond_mass = np.zeros(n)
    root_mass = np.zeros(r)
    group_mass: dict[str, float] = {g: 0.0 for g in ("knee", "spine", "hip", "vascular", "other")}
    for cs in itertools.product((0, 1), repeat=n):
        c = np.array(cs)
        p_c = float(np.prod(np.where(c == 1, pri, 1 - pri)))
        off_root = (1 - model.root_leak) * np.prod(
            np.where(c[:, None] == 1, 1 - model.condition_root, 1.0), axis=0
        )
        for rs in itertools.product((0, 1), repeat=r):
            rv = np.array(rs)
            p_r = float(np.prod(np.where(rv == 1, 1 - off_root, off_root)))
            p = p_c * p_r
            for j, val in obs:
                q = (
                    (1 - model.finding_leak[j])
                    * np.prod(np.where(c == 1, 1 - model.condition_finding[:, j], 1.0))
                    * np.prod(np.where(rv == 1, 1 - model.root_finding[:, j], 1.0))
                )
                p *= (1 - q) if val else q
            if not c.any():
                p *= leak  # the complaint by a cause outside the model
            total += p
            cond_mass += p * c
            root_mass += p * rv
            for g in group_mass:
                if any(c[i] for i in range(n) if model.groups[i] == g):
                    group_mass[g] += p
    return (
        cond_mass / total,
        root_mass / total,
        {g: v / total for g, v in group_mass.items()},
        float(np.log(total) - np.log(rate)),
    )


def population_priors(
    model: CompiledModel, consulting: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """The population priors q = s * consulting, the share s with the complaint and its leak l,
    from the definition: 1 - s = (1 - l) * prod(1 - q), with s the model's complaint rate unless
    l would fall below the model's least leak, then the smallest s that keeps it (found by
    scanning up from the rate in fine steps and refining between the last two)."""

    def leak(s: float) -> float:
        if s >= 1.0:
            return 1.0
        return 1.0 - (1.0 - s) / math.prod(1.0 - s * float(p) for p in consulting)

    s = model.complaint_rate
    if leak(s) < model.complaint_other:
        step = (1.0 - s) / 1000
        while leak(s + step) < model.complaint_other:
            s += step
        lo, hi = s, min(1.0, s + step)
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if leak(mid) >= model.complaint_other else (mid, hi)
        s = hi
    return consulting * s, s, leak(s)


def sample_evidence(
    model: CompiledModel, person: Person, rng: np.random.Generator, n_observed: int
) -> dict[str, bool]:
    """Forward-sample one patient from the model and reveal ``n_observed`` random findings."""
    _, _, findings = sample_states(model, model.priors(person)[None, :], rng)
    shown = rng.choice(len(model.finding_ids), size=n_observed, replace=False)
    return {model.finding_ids[i]: bool(findings[0, i]) for i in shown}
