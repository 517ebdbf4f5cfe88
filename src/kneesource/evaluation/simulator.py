"""Synthetic patients drawn from the compiled model itself (forward sampling).

Why: vignettes are few and hand-written; patients sampled from the model show how well the
engine recovers causes when the model is exactly right, and how fast that degrades when answers
are wrong or missing (``flip`` and ``unknown`` noise). A gap between vignette and simulated
accuracy points at the knowledge base, not at the inference.

Sampling follows the network's causal order for each person: conditions from their priors
(independent), nerve roots as a leaky noisy-OR of the present conditions, findings as a leaky
noisy-OR of the present conditions and roots. With noisy-OR, "no parent fired and the leak did
not fire" has probability ``(1 - leak) * prod(1 - w)`` over present parents, so each node is one
Bernoulli draw. Everything is seeded through a ``numpy.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from kneesource.case import Case
from kneesource.errors import InputError, UnknownIdError
from kneesource.inference.complaint import population_priors
from kneesource.kb.loader import KnowledgeBase
from kneesource.model.compiled import SEXES, CompiledModel, FloatArray, Person

BoolArray = NDArray[np.bool_]
ObserveMode = Literal["all", "patient", "exam"]
OBSERVE_MODES: tuple[ObserveMode, ...] = ("all", "patient", "exam")


@dataclass(frozen=True)
class PersonSampler:
    """Who the synthetic patients are. Ages are uniform whole years in ``[age_min, age_max]``,
    sex is female or male with equal chance, and each sport (a context finding of the sports'
    odds) is done with probability ``activity_share``; nobody has a knee replacement. These are
    simulation settings, not clinical claims."""

    age_min: int = 10
    age_max: int = 85
    activity_share: float = 0.2

    def __post_init__(self) -> None:
        if not 0 <= self.age_min <= self.age_max <= 120:
            raise InputError(
                f"ages must satisfy 0 <= min <= max <= 120, got {self.age_min}-{self.age_max}"
            )
        _check_share("activity share", self.activity_share)

    def draw(self, model: CompiledModel, rng: np.random.Generator) -> Person:
        age = int(rng.integers(self.age_min, self.age_max + 1))
        sex = SEXES[int(rng.integers(0, len(SEXES)))]
        sports = frozenset(a for a in model.sport_ids if rng.random() < self.activity_share)
        return Person(age=age, sex=sex, activities=sports)


@dataclass(frozen=True)
class Observation:
    """Which answers a synthetic patient gives, and how noisy they are.

    ``observable``: the finding ids that are asked (None: every finding). ``flip``: share of
    given answers reversed. ``unknown``: share of given answers dropped (left unknown).
    ``max_present``: at most this many present findings are kept (chosen at random; the rest
    become unknown), as a clinician records the main positives, not every one.
    """

    observable: tuple[str, ...] | None = None
    flip: float = 0.0
    unknown: float = 0.0
    max_present: int | None = None

    def __post_init__(self) -> None:
        _check_share("flip share", self.flip)
        _check_share("unknown share", self.unknown)
        if self.max_present is not None and self.max_present < 0:
            raise InputError(f"max present must be 0 or more, got {self.max_present}")


@dataclass(frozen=True)
class SimulatedPatient:
    """One synthetic patient: the true state of the network and the answers observed."""

    person: Person
    conditions: tuple[str, ...]
    roots: tuple[str, ...]
    findings: dict[str, bool] = field(repr=False)
    observed: dict[str, bool]

    def case(self, model: CompiledModel, case_id: str | None = None) -> Case:
        """The observed answers as a case; the person's sports are given as context answers."""
        context = {a: a in self.person.activities for a in model.context_ids}
        return Case(
            age=self.person.age,
            sex=self.person.sex,
            findings={**context, **self.observed},
            case_id=case_id,
        )


def _check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise InputError(f"{name} must be between 0 and 1, got {value}")


def sample_states(
    model: CompiledModel,
    priors: FloatArray,
    rng: np.random.Generator,
    require_condition: bool = False,
) -> tuple[BoolArray, BoolArray, BoolArray]:
    """Forward-sample one joint state per row of consulting ``priors`` (shape (n, conditions)),
    given the complaint (:mod:`kneesource.inference.complaint`): the conditions are drawn with
    the population priors, and a row with none present keeps the complaint only by its leak, so
    it is drawn again with probability 1 - leak. Each condition's frequency is then its
    consulting prior.

    Returns boolean arrays (conditions, roots, findings). With ``require_condition`` a row with
    no condition present is always drawn again: the model of a person who consults with knee
    pain that has a modelled cause. Then P(c) = q_c / (1 - prod(1 - q)) for the population
    priors q.
    """
    n = priors.shape[0]
    if require_condition and np.any(np.all(priors <= 0.0, axis=1)):
        raise InputError("a person has no condition with a prior above zero")
    priors, _, leak = population_priors(model, priors)
    if require_condition:
        leak = np.zeros_like(leak)
    conds = rng.random(priors.shape) < priors
    again = ~conds.any(axis=1) & (rng.random(n) >= leak)
    while again.any():
        conds[again] = rng.random((int(again.sum()), priors.shape[1])) < priors[again]
        again[again] = ~conds[again].any(axis=1) & (rng.random(int(again.sum())) >= leak[again])
    c = conds.astype(np.float64)
    log_root_off = np.log1p(-model.root_leak) + c @ np.log1p(-model.condition_root)
    roots = rng.random((n, len(model.root_ids))) < -np.expm1(log_root_off)
    r = roots.astype(np.float64)
    log_find_off = (
        np.log1p(-model.finding_leak)
        + c @ np.log1p(-model.condition_finding)
        + r @ np.log1p(-model.root_finding)
    )
    findings = rng.random((n, len(model.finding_ids))) < -np.expm1(log_find_off)
    return conds, roots, findings


def observe(
    model: CompiledModel,
    findings: BoolArray,
    observation: Observation,
    rng: np.random.Generator,
) -> dict[str, bool]:
    """Turn one row of true findings into the answers given (asked, noisy, capped)."""
    if observation.observable is None:
        asked = np.arange(len(model.finding_ids))
    else:
        asked = np.array([model.finding_index(f) for f in observation.observable], dtype=np.intp)
    values = findings[asked].copy()
    keep = rng.random(len(asked)) >= observation.unknown
    flip = rng.random(len(asked)) < observation.flip
    values = np.where(flip, ~values, values)
    asked, values = asked[keep], values[keep]
    if observation.max_present is not None:
        present = np.flatnonzero(values)
        if len(present) > observation.max_present:
            drop = rng.choice(present, size=len(present) - observation.max_present, replace=False)
            mask = np.ones(len(asked), dtype=bool)
            mask[drop] = False
            asked, values = asked[mask], values[mask]
    return {model.finding_ids[j]: bool(v) for j, v in zip(asked, values, strict=True)}


def simulate(
    model: CompiledModel,
    n: int,
    seed: int,
    people: PersonSampler | None = None,
    observation: Observation | None = None,
    require_condition: bool = True,
) -> list[SimulatedPatient]:
    """Draw ``n`` synthetic patients (seeded: the same arguments give the same patients)."""
    if n < 0:
        raise InputError(f"the number of patients must be 0 or more, got {n}")
    people = people or PersonSampler()
    observation = observation or Observation()
    if observation.observable is not None:
        valid = set(model.finding_ids)
        for f in observation.observable:
            if f not in valid:
                raise UnknownIdError("finding", f, model.finding_ids, where="observable findings")
    rng = np.random.default_rng(seed)
    persons = [people.draw(model, rng) for _ in range(n)]
    priors = np.array([model.priors(p) for p in persons]).reshape(n, model.n_conditions)
    conds, roots, findings = sample_states(model, priors, rng, require_condition)
    out = []
    for i, person in enumerate(persons):
        out.append(
            SimulatedPatient(
                person=person,
                conditions=_ids(model.condition_ids, conds[i]),
                roots=_ids(model.root_ids, roots[i]),
                findings={f: bool(v) for f, v in zip(model.finding_ids, findings[i], strict=True)},
                observed=observe(model, findings[i], observation, rng),
            )
        )
    return out


def _ids(ids: Sequence[str], mask: BoolArray) -> tuple[str, ...]:
    return tuple(i for i, on in zip(ids, mask, strict=True) if on)


def observable_findings(kb: KnowledgeBase, mode: ObserveMode) -> tuple[str, ...] | None:
    """The findings asked in each mode: ``patient`` what a person can answer themselves
    (history, symptoms, risk factors), ``exam`` the examination tests only, ``all`` everything."""
    if mode == "all":
        return None
    kinds = {"patient": ("history", "symptom", "risk_factor"), "exam": ("exam",)}[mode]
    return tuple(f.id for f in kb.findings if f.kind in kinds)
