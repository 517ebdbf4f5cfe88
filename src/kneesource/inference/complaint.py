"""The complaint itself as evidence: pain in or around the knee needs a cause.

The priors of :meth:`CompiledModel.priors` describe people who seek advice for knee-region pain,
and the conditions are independent in them. Read literally, that model never lets one cause
account for the pain: a man whose calf claudication explains his symptoms keeps knee
osteoarthritis at its consulting prior. Here the pain is a node of its own. Every condition, when
present, causes it; other causes outside the model cause it with probability ``l`` (a leak); and
it is observed present in everyone the product sees. The conditions' priors in the whole
population are ``q = s * prior``, where ``s`` is the share of the population with the complaint
(``CompiledModel.complaint_rate``), and ``l`` is set so that the complaint alone gives back
exactly the consulting priors:

    P(complaint) = 1 - (1 - l) * prod(1 - q)  must equal  s,  so  1 - l = (1 - s) / prod(1 - q).

Where the consulting priors add up to so much that this would need ``l`` below
``CompiledModel.complaint_other`` (older people, whose priors sum past one), ``s`` is raised to
the smallest value that allows it; with ``s = 1`` the complaint tells nothing, as before.

Inference then runs the ordinary network on the population priors ``q`` and conditions on the
complaint in closed form. With every condition a sure cause, the complaint is absent only when
no condition is present, so for the evidence e and N = P(no condition | e):

    P(condition | e, complaint) = P(condition | e) / (1 - (1 - l) N)
    P(source group | e, complaint) = P(source group | e) / (1 - (1 - l) N)
    P(root | e, complaint) = (P(root | e) - (1 - l) N P(root | e, no condition)) / (1 - (1 - l) N)
    log P(e | complaint) = log P(e) + log(1 - (1 - l) N) - log s

N needs P(e | no condition): with no condition present the nerve roots fire by their leaks
alone, and the 2^5 states of the roots are summed here. A cause that explains the pain now lowers
the others, down to their population priors when it explains it fully.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from kneesource.inference.junction import FloatArray
from kneesource.model.compiled import CompiledModel

IntArray = np.ndarray

_BISECTIONS = 60


def population_priors(
    model: CompiledModel, priors: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For consulting priors (B, n): the population priors q (B, n), the share s with the
    complaint (B,) and the leak l of the complaint (B,), as the module describes."""
    priors = np.atleast_2d(np.asarray(priors, dtype=np.float64))
    scale = _scales(model, priors) if model.complaint_rate < 1.0 else np.ones(len(priors))
    q = priors * scale[:, None]
    with np.errstate(divide="ignore"):
        log_rest = np.log1p(-scale) - np.log1p(-q).sum(axis=1)
    leak = np.clip(-np.expm1(log_rest), 0.0, 1.0)
    return q, scale, leak


# Shares worked out, kept on the model by the bytes of a row of priors: a batch repeats few
# people many times (a case's leave-one-out rows, its triage combinations), and so does a run.
_KEPT_SCALES = 4096


def _scales(model: CompiledModel, priors: FloatArray) -> FloatArray:
    """The share with the complaint for each row of consulting priors (the rate, raised where
    the leak would fall below its floor), each distinct row worked out once."""
    kept: dict[bytes, float] | None = model.__dict__.get("_complaint_scales")
    if kept is None or len(kept) > _KEPT_SCALES:
        kept = {}
        object.__setattr__(model, "_complaint_scales", kept)
    keys = [row.tobytes() for row in priors]
    todo = {k: i for i, k in enumerate(keys) if k not in kept}  # one row of each
    if todo:
        rows = priors[list(todo.values())]
        scale = np.full(len(rows), float(model.complaint_rate))
        keep_other = float(np.log1p(-model.complaint_other))
        short = _leak_room(rows, scale, keep_other) < 0.0
        if short.any():
            scale[short] = _smallest_scale(rows[short], scale[short], keep_other)
        kept.update(zip(todo, scale.tolist(), strict=True))
    return np.array([kept[k] for k in keys])


def _leak_room(priors: FloatArray, scale: FloatArray, keep_other: float) -> FloatArray:
    """log((1 - l_min) prod(1 - q)) - log(1 - s): at least 0 when the leak is at least l_min."""
    with np.errstate(divide="ignore"):
        out: FloatArray = (
            np.log1p(-priors * scale[:, None]).sum(axis=1) + keep_other - np.log1p(-scale)
        )
    return out


def _smallest_scale(priors: FloatArray, low: FloatArray, keep_other: float) -> FloatArray:
    """The smallest s in [low, 1] whose leak is at least l_min, by bisection (s = 1 always
    allows it: the leak is then 1)."""
    high = np.ones(len(priors))
    for _ in range(_BISECTIONS):
        mid = (low + high) / 2.0
        ok = _leak_room(priors, mid, keep_other) >= 0.0
        high = np.where(ok, mid, high)
        low = np.where(ok, low, mid)
    return high


class _RootStates(NamedTuple):
    states: FloatArray  # every state of the roots (S, R)
    log_state: FloatArray  # its log probability with no condition present (S,)
    # log P(what was said of finding f | state s) (F, 3, S), indexed by the answer plus one:
    # 0 unknown, 1 absent, 2 present
    lookup: FloatArray
    rooted: IntArray  # the findings some root causes: the others do not depend on the state


def _root_states(model: CompiledModel) -> _RootStates:
    """``_RootStates`` of the model, kept on it."""
    cached: _RootStates | None = model.__dict__.get("_root_states")
    if cached is None:
        n_roots = len(model.root_ids)
        states = np.array(list(itertools.product((0.0, 1.0), repeat=n_roots)))
        with np.errstate(divide="ignore"):
            log_state = states @ np.log(model.root_leak) + (1.0 - states) @ np.log1p(
                -model.root_leak
            )
            off = states @ np.log1p(-model.root_finding) + np.log1p(-model.finding_leak)[None]
            on = np.log(-np.expm1(off))
        lookup = np.stack([np.zeros_like(off.T), off.T, on.T], axis=1)
        rooted = np.flatnonzero(model.root_finding.any(axis=0))
        cached = _RootStates(states, log_state, lookup, rooted)
        object.__setattr__(model, "_root_states", cached)
    return cached


def without_conditions(model: CompiledModel, evidence: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """For rows of evidence (B, F: -1 unknown, 0 absent, 1 present): log P(e | no condition
    present) (B,) and P(root | e, no condition present) (B, R)."""
    states, log_state, lookup, rooted = _root_states(model)
    # Gathers and sums along fixed axes, never a matrix product: a row's numbers then do not
    # depend on the other rows of the batch (a case scored alone and in a batch gives the same
    # bits). A finding no root causes has its leak alone, the same in every state of the roots:
    # those are one sum per row; the others are added one finding at a time.
    index = evidence.astype(np.int64) + 1
    alone = lookup[np.arange(evidence.shape[1]), index, 0]  # (B, F)
    alone[:, rooted] = 0.0
    total = log_state[None] + alone.sum(axis=1)[:, None]  # (B, S)
    for j in rooted[(evidence[:, rooted] >= 0).any(axis=0)].tolist():
        total += lookup[j][index[:, j]]
    top = total.max(axis=1, keepdims=True)
    finite = np.isfinite(top[:, 0])
    weights = np.exp(total - np.where(np.isfinite(top), top, 0.0))
    z = np.where(finite, weights.sum(axis=1), 1.0)
    log_e = np.where(finite, top[:, 0] + np.log(z), -np.inf)
    roots = np.stack([(weights * states[:, r]).sum(axis=1) for r in range(states.shape[1])], 1)
    return log_e, roots / z[:, None]


def condition(
    model: CompiledModel,
    population: tuple[FloatArray, FloatArray, FloatArray],
    evidence: np.ndarray,
    conditions: FloatArray,
    roots: FloatArray,
    sources: FloatArray,
    log_z: FloatArray,
) -> None:
    """Condition posteriors computed on the population priors (``population``: what
    ``population_priors`` gives for the consulting priors) on the complaint, in place:
    conditions (B, n), roots (B, R), sources (B, groups) and log P(e) (B,) become those given e
    and the complaint."""
    if model.complaint_rate >= 1.0:
        return
    q, scale, leak = population
    log_none, roots_none = without_conditions(model, evidence)
    log_n = np.minimum(np.log1p(-q).sum(axis=1) + log_none - log_z, 0.0)
    n_none = np.exp(log_n)
    # 1 - (1 - l) N, as l N + (1 - N): no cancellation when N is close to one.
    keep = leak * n_none - np.expm1(log_n)
    conditions /= keep[:, None]
    sources /= keep[:, None]
    roots -= ((1.0 - leak) * n_none)[:, None] * roots_none
    roots /= keep[:, None]
    log_z += np.log(keep) - np.log(scale)
    np.clip(conditions, 0.0, 1.0, out=conditions)
    np.clip(sources, 0.0, 1.0, out=sources)
    np.clip(roots, 0.0, 1.0, out=roots)
