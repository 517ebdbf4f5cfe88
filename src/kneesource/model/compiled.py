"""Compile a validated knowledge base into an immutable noisy-OR network, and check it.

Layers: conditions (independent priors that depend on the person) -> nerve roots L2..S1 (leaky
noisy-OR of conditions) -> findings (leaky noisy-OR of conditions and roots). Weights come from
``kb.strength.link_weight``; see ``docs/model.md`` for the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from kneesource.errors import CaseFormatError, ModelError, UnknownIdError
from kneesource.kb.loader import KnowledgeBase
from kneesource.kb.schema import (
    AGE_BANDS,
    AGES,
    ROOT_IDS,
    SOURCE_GROUPS,
    ActivityModifier,
    AgeModifier,
    AgeYearsModifier,
    HistoryModifier,
    SexModifier,
    SourceGroup,
    age_band,
    age_band_index,
)
from kneesource.kb.strength import link_weight

FloatArray = NDArray[np.float64]
SEXES: tuple[Literal["female", "male"], ...] = ("female", "male")


@dataclass(frozen=True)
class Person:
    """Who the priors are for: age in years, sex if given, and the sports they do."""

    age: int
    sex: Literal["female", "male"] | None = None
    activities: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if isinstance(self.age, bool) or not isinstance(self.age, int):
            raise CaseFormatError(f"age must be a whole number of years, got {self.age!r}")
        if not 0 <= self.age <= 120:
            raise CaseFormatError(f"age must be between 0 and 120, got {self.age}")
        if self.sex is not None and self.sex not in SEXES:
            raise CaseFormatError(f"sex must be 'female' or 'male' (or left out), got {self.sex!r}")

    @property
    def age_band(self) -> str:
        return age_band(self.age)


def _readonly(array: FloatArray) -> FloatArray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """Immutable arrays of the network. Build with :func:`compile_model`; never mutate."""

    condition_ids: tuple[str, ...]
    groups: tuple[SourceGroup, ...]
    root_ids: tuple[str, ...]
    finding_ids: tuple[str, ...]
    context_ids: tuple[str, ...]
    base_logit: FloatArray  # (n,)
    age_log_odds: FloatArray  # (n, AGES): every whole year of age, band and year odds together
    sex_log_odds: FloatArray  # (n, 2)
    activity_log_odds: FloatArray  # (n, len(context_ids))
    condition_root: FloatArray  # (n, R) noisy-OR weights
    root_leak: FloatArray  # (R,)
    condition_finding: FloatArray  # (n, F)
    root_finding: FloatArray  # (R, F)
    finding_leak: FloatArray  # (F,)
    knowledge_base_version: str
    # Findings only the triage reads (no links: their columns are zero). They are valid in a
    # case but never part of the evidence, so they cannot change a probability.
    triage_ids: tuple[str, ...] = ()
    # Context findings that are the sports (``factor: activity``), as against a past treatment
    # (``factor: history``, a knee replacement): synthetic patients are drawn with sports only.
    sport_ids: tuple[str, ...] = ()
    # The complaint as evidence (:mod:`kneesource.inference.complaint`): the share of people with
    # knee-region pain, and the least probability of it from causes outside the model. A rate of
    # 1 leaves the complaint out (the priors then act alone, as in a hand-built model).
    complaint_rate: float = 1.0
    complaint_other: float = 0.05
    # Per condition, the context findings of which one must be present for it to be possible
    # (``prior.requires``); empty when it needs none. Without them its prior is exactly zero,
    # and inference leaves it out of every table (``inference.exact.rows_network``).
    requires: tuple[frozenset[str], ...] = ()
    # Per condition, the ages (inclusive) at which it can occur (``prior.ages``), or None for any
    # age. Outside them its prior is exactly zero, as for a missing context.
    ages: tuple[tuple[int, int] | None, ...] = ()

    @property
    def n_conditions(self) -> int:
        return len(self.condition_ids)

    def finding_index(self, finding_id: str) -> int:
        try:
            return self.finding_positions[finding_id]
        except KeyError:
            raise UnknownIdError(
                "finding", finding_id, [*self.finding_ids, *self.context_ids]
            ) from None

    @property
    def finding_positions(self) -> Mapping[str, int]:
        """Finding id -> column in the arrays (evidence findings only, not context)."""
        cache: dict[str, int] | None = self.__dict__.get("_fi")
        if cache is None:
            cache = {f: i for i, f in enumerate(self.finding_ids)}
            object.__setattr__(self, "_fi", cache)
        return cache

    @property
    def evidence_skipped(self) -> frozenset[str]:
        """Findings a case may hold that are not evidence: context (it sets priors) and
        triage-only findings."""
        cache: frozenset[str] | None = self.__dict__.get("_skip")
        if cache is None:
            cache = frozenset(self.context_ids) | frozenset(self.triage_ids)
            object.__setattr__(self, "_skip", cache)
        return cache

    def prior_logits(self, person: Person) -> FloatArray:
        """Log-odds of every condition for this person (base odds times the modifiers)."""
        logit = self.base_logit + self.age_log_odds[:, person.age]
        if person.sex is not None:
            logit = logit + self.sex_log_odds[:, SEXES.index(person.sex)]
        for activity in person.activities:
            if activity not in self.context_ids:
                raise UnknownIdError("finding", activity, self.context_ids, where="activities")
            logit = logit + self.activity_log_odds[:, self.context_ids.index(activity)]
        impossible = self.impossible(person)
        if impossible:
            logit = logit.copy()
            logit[list(impossible)] = -np.inf
        return logit

    def impossible(self, person: Person) -> frozenset[int]:
        """The conditions that need a context this person does not have (``prior.requires``)
        or that do not occur at this person's age (``prior.ages``): their prior is zero."""
        out = {i for i, needs in self._gated if not needs & person.activities}
        out.update(i for i, (lo, hi) in self._age_gated if not lo <= person.age <= hi)
        return frozenset(out)

    @property
    def _age_gated(self) -> tuple[tuple[int, tuple[int, int]], ...]:
        """The conditions possible only at some ages, with those ages."""
        cache: tuple[tuple[int, tuple[int, int]], ...] | None = self.__dict__.get("_agegate")
        if cache is None:
            cache = tuple((i, span) for i, span in enumerate(self.ages) if span is not None)
            object.__setattr__(self, "_agegate", cache)
        return cache

    @property
    def _gated(self) -> tuple[tuple[int, frozenset[str]], ...]:
        """The conditions with requirements and their requirements (most have none)."""
        cache: tuple[tuple[int, frozenset[str]], ...] | None = self.__dict__.get("_gate")
        if cache is None:
            cache = tuple((i, needs) for i, needs in enumerate(self.requires) if needs)
            object.__setattr__(self, "_gate", cache)
        return cache

    def priors(self, person: Person) -> FloatArray:
        """Prior probability of every condition for this person."""
        return 1.0 / (1.0 + np.exp(-self.prior_logits(person)))


def compile_model(kb: KnowledgeBase) -> CompiledModel:
    """Build the network's arrays from ``kb`` and check them (raises :class:`ModelError`)."""
    conditions = kb.conditions
    findings = [f for f in kb.findings if f.kind != "context"]
    contexts = [f.id for f in kb.findings if f.kind == "context"]
    cidx = {c.id: i for i, c in enumerate(conditions)}
    fidx = {f.id: i for i, f in enumerate(findings)}
    ridx = {r: i for i, r in enumerate(ROOT_IDS)}
    n, nf, nr = len(conditions), len(findings), len(ROOT_IDS)

    base = np.array([np.log(c.prior.base / (1 - c.prior.base)) for c in conditions])
    age = np.zeros((n, AGES))
    band_of_year = np.array([age_band_index(y) for y in range(AGES)])
    sex = np.zeros((n, len(SEXES)))
    act = np.zeros((n, len(contexts)))
    band_names = [b for b, _, _ in AGE_BANDS]
    for i, c in enumerate(conditions):
        for m in c.prior.modifiers:
            if isinstance(m, AgeModifier):
                for band, odds in m.odds.items():
                    age[i, band_of_year == band_names.index(band)] += np.log(odds)
            elif isinstance(m, AgeYearsModifier):
                for r in m.ranges:
                    age[i, r.min : r.max + 1] += np.log(r.odds)
            elif isinstance(m, SexModifier):
                for s, odds in m.odds.items():
                    sex[i, SEXES.index(s)] = np.log(odds)
            elif isinstance(m, ActivityModifier | HistoryModifier):
                for a, odds in m.odds.items():
                    act[i, contexts.index(a)] = np.log(odds)

    roots = {r.id: r for r in kb.roots}
    root_leak = np.array([roots[r].leak for r in ROOT_IDS])
    finding_leak = np.array([f.leak if f.leak is not None else 0.0 for f in findings])
    cond_root = np.zeros((n, nr))
    cond_find = np.zeros((n, nf))
    root_find = np.zeros((nr, nf))
    for link in kb.links:
        if link.child in ridx:
            cond_root[cidx[link.parent], ridx[link.child]] = link_weight(
                link, float(root_leak[ridx[link.child]])
            )
            continue
        j = fidx[link.child]
        weight = link_weight(link, float(finding_leak[j]))
        if link.parent in ridx:
            root_find[ridx[link.parent], j] = weight
        else:
            cond_find[cidx[link.parent], j] = weight

    model = CompiledModel(
        condition_ids=tuple(c.id for c in conditions),
        groups=tuple(c.source_group for c in conditions),
        root_ids=ROOT_IDS,
        finding_ids=tuple(f.id for f in findings),
        context_ids=tuple(contexts),
        base_logit=_readonly(base),
        age_log_odds=_readonly(age),
        sex_log_odds=_readonly(sex),
        activity_log_odds=_readonly(act),
        condition_root=_readonly(cond_root),
        root_leak=_readonly(root_leak),
        condition_finding=_readonly(cond_find),
        root_finding=_readonly(root_find),
        finding_leak=_readonly(finding_leak),
        knowledge_base_version=kb.version,
        complaint_rate=kb.meta.complaint.rate,
        complaint_other=kb.meta.complaint.other_causes,
        triage_ids=tuple(f.id for f in findings if f.triage_only),
        requires=tuple(frozenset(c.prior.requires) for c in conditions),
        ages=tuple(
            (c.prior.ages.min, c.prior.ages.max) if c.prior.ages is not None else None
            for c in conditions
        ),
        sport_ids=tuple(
            a
            for a in contexts
            if any(
                isinstance(m, ActivityModifier) and a in m.odds
                for c in conditions
                for m in c.prior.modifiers
            )
        ),
    )
    check_model(model)
    return model


def check_model(model: CompiledModel) -> None:
    """Raise :class:`ModelError` unless every array has the right shape and legal values.

    Inference calls this before it runs, so a hand-built or damaged model is refused. The arrays
    are read-only, so a model that passed once is remembered as checked.
    """
    if model.__dict__.get("_checked"):
        return
    n, nf, nr = len(model.condition_ids), len(model.finding_ids), len(model.root_ids)
    expected = {
        "base_logit": (n,),
        "age_log_odds": (n, AGES),
        "sex_log_odds": (n, len(SEXES)),
        "activity_log_odds": (n, len(model.context_ids)),
        "condition_root": (n, nr),
        "root_leak": (nr,),
        "condition_finding": (n, nf),
        "root_finding": (nr, nf),
        "finding_leak": (nf,),
    }
    problems: list[str] = []
    for name, shape in expected.items():
        array: FloatArray = getattr(model, name)
        if array.shape != shape:
            problems.append(f"{name} has shape {array.shape}, expected {shape}")
        elif not np.all(np.isfinite(array)):
            problems.append(f"{name} has non-finite values")
        elif array.flags.writeable:
            problems.append(f"{name} is writeable; compiled models are immutable")
    for name in (
        "condition_root",
        "root_leak",
        "condition_finding",
        "root_finding",
        "finding_leak",
    ):
        array = getattr(model, name)
        if array.size and (array.min() < 0.0 or array.max() >= 1.0):
            problems.append(f"{name} must hold probabilities in [0, 1)")
    if not 0.0 < model.complaint_rate <= 1.0:
        problems.append("complaint_rate must be in (0, 1]")
    if not 0.0 < model.complaint_other < 1.0:
        problems.append("complaint_other must be in (0, 1)")
    if len(model.groups) != n or any(g not in SOURCE_GROUPS for g in model.groups):
        problems.append("every condition needs a source group")
    if not set(model.triage_ids) <= set(model.finding_ids):
        problems.append("triage-only findings must be findings of the model")
    if model.requires and (
        len(model.requires) != n or not set().union(*model.requires) <= set(model.context_ids)
    ):
        problems.append("each condition's requirements must be context findings")
    if model.ages and (
        len(model.ages) != n or any(a is not None and not 0 <= a[0] <= a[1] for a in model.ages)
    ):
        problems.append("each condition's ages must be an ordered span or none")
    if len(set(model.condition_ids + model.finding_ids + model.context_ids)) != (
        n + nf + len(model.context_ids)
    ):
        problems.append("condition and finding ids must be unique")
    if problems:
        raise ModelError("the compiled model failed its checks: " + "; ".join(problems))
    object.__setattr__(model, "_checked", True)
